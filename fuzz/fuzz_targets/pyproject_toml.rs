//! `pyproject.toml` from arbitrary bytes: `[project]` dependencies and extras, and the
//! `[tool.pyedge]` table with its budget size.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pyedge::config::{parse_size, parse_tool_config};
use pyedge::deps::requirements::{parse_pyproject, Declared, SourceOptions, MAX_REQUIREMENTS};

fuzz_target!(|data: &[u8]| {
    // read_project_file refuses what is not UTF-8 before any parsing.
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for extras in [&[][..], &["test".to_string()][..]] {
        let Ok(project) = parse_pyproject(text, "pyproject.toml", extras) else {
            continue;
        };
        assert!(project.requirements.len() <= MAX_REQUIREMENTS);
        let declared = Declared {
            app_name: project.name.unwrap_or_default(),
            file: "pyproject.toml".into(),
            requirements: project.requirements,
            sources: SourceOptions::default(),
        };
        let _ = declared.active().count();
        let _ = declared.fingerprint();
    }
    if let Ok(tool) = parse_tool_config(text, "pyproject.toml") {
        if let Some(budget) = tool.budget {
            let _ = parse_size(&budget);
        }
    }
});
