//! Bind the HTTP runtime's run-time configuration imports to what the app asked for.
//!
//! The runtime's C entry (`runtime-assets/entry-http/pyedge_http.c`) reads the host's
//! environment and config store through two functions it imports from pyedge's own module
//! name, [`MODULE`]. They are not WASI imports yet: the runtime is one module for every
//! app, and a component must import only what its `[tool.pyedge] runtime-config` says
//! (an import the host does not implement makes the component fail to start, on every
//! host). Before the module becomes a component, each of them is either
//!
//! - *renamed* to the WASI function the app chose (`wasi:cli/environment#get-environment`
//!   in the version of the runtime's other WASI imports, or `wasi:config/store#get` in
//!   the version its host implements: `config-store`), with the WIT of that interface
//!   added to the module's `component-type` metadata so that `wit-component` can type the
//!   import; or
//! - *replaced* by a function in the module that answers "the host has no value" (an empty
//!   list, `ok(none)`), so that the runtime's code has one path.
//!
//! Replacing an import removes it from the function index space: every later function
//! index moves down by one, and the replacement goes at the end. `wasm-encoder`'s
//! [`Reencode`] rewrites every place that holds a function index (calls, `ref.func`,
//! element segments, exports, the start function, the name section) through
//! [`Reencode::function_index`], which is what makes this a small pass rather than a
//! hand-written module rewriter.

use crate::config::{ConfigStore, RuntimeConfig};
use anyhow::{anyhow, bail, Context, Result};
use wasm_encoder::reencode::Reencode;
use wasm_encoder::{CodeSection, Function, FunctionSection, Instruction, MemArg, Module};
use wasmparser::{Parser, Payload, TypeRef};

/// The import module of the runtime's run-time configuration functions.
pub const MODULE: &str = "pyedge:runtime-config";

/// `get-environment(ret: i32)`: the canonical ABI lowering of
/// `wasi:cli/environment#get-environment: func() -> list<tuple<string, string>>`.
const GET_ENVIRONMENT: &str = "get-environment";
/// `config-get(key: i32, key-len: i32, ret: i32)`: the lowering of
/// `wasi:config/store#get: func(key: string) -> result<option<string>, error>`.
const CONFIG_GET: &str = "config-get";

/// What the host gives the app at run time, as the component's imports show it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HostConfig {
    /// `[tool.pyedge] runtime-config`.
    pub mode: RuntimeConfig,
    /// `[tool.pyedge] config-store` (used with `wasi-config`).
    pub store: ConfigStore,
}

impl HostConfig {
    /// Nothing from the host.
    pub const NONE: HostConfig = HostConfig {
        mode: RuntimeConfig::None,
        store: ConfigStore::Wasmtime,
    };
}

/// One import of [`MODULE`]: its function index and its name.
struct ConfigImport {
    index: u32,
    name: String,
    type_index: u32,
}

/// Rename or replace `core`'s [`MODULE`] imports for `host` (see the module docs). A
/// module without them (the CLI runtime) comes back unchanged.
pub fn bind_imports(core: &[u8], host: HostConfig) -> Result<Vec<u8>> {
    let scan = scan(core)?;
    if scan.imports.is_empty() {
        return Ok(core.to_vec());
    }
    for import in &scan.imports {
        if import.name != GET_ENVIRONMENT && import.name != CONFIG_GET {
            bail!(
                "the runtime imports {MODULE}#{}, which this pyedge does not know how to bind",
                import.name
            );
        }
    }
    let wasi_version = scan.wasi_version.clone().ok_or_else(|| {
        anyhow!("the runtime imports no wasi:http/types, so its WASI version is unknown")
    })?;
    let renamed = |name: &str| -> Option<(String, &'static str)> {
        match (name, host.mode) {
            (GET_ENVIRONMENT, RuntimeConfig::Env) => Some((
                format!("wasi:cli/environment@{wasi_version}"),
                "get-environment",
            )),
            (CONFIG_GET, RuntimeConfig::WasiConfig) => Some((
                format!("wasi:config/store@{}", host.store.wasi_config_version()),
                "get",
            )),
            _ => None,
        }
    };
    let mut rewriter = Rewriter {
        func_imports: scan.func_imports,
        defined: scan.defined,
        removed: Vec::new(),
        renames: Vec::new(),
    };
    for import in &scan.imports {
        match renamed(&import.name) {
            Some((module, name)) => rewriter.renames.push((import.name.clone(), module, name)),
            None => rewriter
                .removed
                .push((import.index, import.name.clone(), import.type_index)),
        }
    }
    rewriter.removed.sort();
    let mut module = Module::new();
    rewriter
        .parse_core_module(&mut module, Parser::new(0), core)
        .map_err(|err| anyhow!("rewriting the runtime's {MODULE} imports: {err:?}"))?;
    let mut bytes = module.finish();
    if let Some(wit) = host_wit(host, &wasi_version) {
        embed_wit(&mut bytes, &wit)?;
    }
    Ok(bytes)
}

/// The WIT of the interface `host` imports, as a world `wit-component` merges into the
/// runtime's own (`component-type` sections add up). Written out here rather than read
/// from a WIT package: these are the two functions' interfaces exactly as the WASI
/// proposals define them (wasi:cli 0.2's `environment`; wasi-config's `store`, the same in
/// both versions hosts implement), and a typo fails the tests that run the component
/// under `wasmtime serve -Scli` and `-Sconfig`.
fn host_wit(host: HostConfig, wasi_version: &str) -> Option<String> {
    match host.mode {
        RuntimeConfig::None => None,
        RuntimeConfig::Env => Some(format!(
            "package wasi:cli@{wasi_version};\n\
             interface environment {{\n\
               get-environment: func() -> list<tuple<string, string>>;\n\
               get-arguments: func() -> list<string>;\n\
               initial-cwd: func() -> option<string>;\n\
             }}\n\
             world pyedge-runtime-config {{\n\
               import environment;\n\
             }}\n"
        )),
        RuntimeConfig::WasiConfig => Some(format!(
            "package wasi:config@{};\n\
             interface store {{\n\
               variant error {{ upstream(string), io(string) }}\n\
               get: func(key: string) -> result<option<string>, error>;\n\
               get-all: func() -> result<list<tuple<string, string>>, error>;\n\
             }}\n\
             world pyedge-runtime-config {{\n\
               import store;\n\
             }}\n",
            host.store.wasi_config_version()
        )),
    }
}

/// Add `wit`'s world to the module's component metadata.
fn embed_wit(core: &mut Vec<u8>, wit: &str) -> Result<()> {
    let mut resolve = wit_parser::Resolve::default();
    let package = resolve
        .push_str("pyedge-runtime-config.wit", wit)
        .context("parsing the run-time configuration WIT")?;
    let world = resolve.select_world(&[package], Some("pyedge-runtime-config"))?;
    wit_component::embed_component_metadata(
        core,
        &resolve,
        world,
        wit_component::StringEncoding::UTF8,
    )
    .context("adding the run-time configuration imports to the component metadata")
}

/// What [`bind_imports`] needs to know about the module before rewriting it.
struct Scan {
    /// The [`MODULE`] imports.
    imports: Vec<ConfigImport>,
    /// Number of imported functions.
    func_imports: u32,
    /// Number of functions defined in the module.
    defined: u32,
    /// The version of the module's `wasi:http/types` import (`0.2.12`).
    wasi_version: Option<String>,
}

fn scan(core: &[u8]) -> Result<Scan> {
    let mut scan = Scan {
        imports: Vec::new(),
        func_imports: 0,
        defined: 0,
        wasi_version: None,
    };
    for payload in Parser::new(0).parse_all(core) {
        match payload? {
            Payload::ImportSection(reader) => {
                for import in reader.into_imports() {
                    let import = import?;
                    if let Some(version) = import.module.strip_prefix("wasi:http/types@") {
                        scan.wasi_version = Some(version.to_string());
                    }
                    if let TypeRef::Func(type_index) = import.ty {
                        if import.module == MODULE {
                            scan.imports.push(ConfigImport {
                                index: scan.func_imports,
                                name: import.name.to_string(),
                                type_index,
                            });
                        }
                        scan.func_imports += 1;
                    }
                }
            }
            Payload::FunctionSection(reader) => scan.defined = reader.count(),
            _ => {}
        }
    }
    Ok(scan)
}

/// The re-encoder: renamed imports keep their index; removed ones move to the end, as
/// functions defined in the module.
struct Rewriter {
    func_imports: u32,
    defined: u32,
    /// Removed imports (index, name, type index), by index.
    removed: Vec<(u32, String, u32)>,
    /// (import name in [`MODULE`], new module, new name).
    renames: Vec<(String, String, &'static str)>,
}

impl Rewriter {
    /// The body that stands in for a removed import: the "no value" answer.
    fn stand_in(name: &str) -> Function {
        let mut body = Function::new([]);
        // The return area's first 8 bytes, zeroed: an empty list (pointer 0, length 0),
        // or `ok(none)` (result tag 0, option tag 0 at offset 4).
        let ret = match name {
            GET_ENVIRONMENT => 0,
            _ => 2, // CONFIG_GET: (key, key-len, ret)
        };
        body.instruction(&Instruction::LocalGet(ret));
        body.instruction(&Instruction::I64Const(0));
        body.instruction(&Instruction::I64Store(MemArg {
            offset: 0,
            align: 2,
            memory_index: 0,
        }));
        body.instruction(&Instruction::End);
        body
    }
}

impl Reencode for Rewriter {
    type Error = std::convert::Infallible;

    fn function_index(
        &mut self,
        func: u32,
    ) -> Result<u32, wasm_encoder::reencode::Error<Self::Error>> {
        if let Some(pos) = self.removed.iter().position(|(i, _, _)| *i == func) {
            let kept_imports = self.func_imports - self.removed.len() as u32;
            return Ok(kept_imports + self.defined + pos as u32);
        }
        let removed_before = self.removed.iter().filter(|(i, _, _)| *i < func).count() as u32;
        Ok(func - removed_before)
    }

    fn parse_imports(
        &mut self,
        section: &mut wasm_encoder::ImportSection,
        imports: wasmparser::Imports<'_>,
    ) -> Result<(), wasm_encoder::reencode::Error<Self::Error>> {
        // Written one by one, as wasm-ld writes them; a group in the compact encoding
        // of the compact-imports proposal is flattened, which means the same.
        for item in imports {
            let (_, import) = item.map_err(wasm_encoder::reencode::Error::ParseError)?;
            let ty = self.entity_type(import.ty)?;
            if import.module == MODULE {
                let Some((_, module, name)) =
                    self.renames.iter().find(|(old, _, _)| old == import.name)
                else {
                    continue; // removed: it becomes a function of the module
                };
                section.import(module, name, ty);
            } else {
                section.import(import.module, import.name, ty);
            }
        }
        Ok(())
    }

    fn parse_function_section(
        &mut self,
        functions: &mut FunctionSection,
        section: wasmparser::FunctionSectionReader<'_>,
    ) -> Result<(), wasm_encoder::reencode::Error<Self::Error>> {
        wasm_encoder::reencode::utils::parse_function_section(self, functions, section)?;
        for (_, _, type_index) in &self.removed {
            functions.function(*type_index);
        }
        Ok(())
    }

    fn parse_code_section(
        &mut self,
        code: &mut CodeSection,
        section: wasmparser::CodeSectionReader<'_>,
    ) -> Result<(), wasm_encoder::reencode::Error<Self::Error>> {
        wasm_encoder::reencode::utils::parse_code_section(self, code, section)?;
        for (_, name, _) in &self.removed {
            code.function(&Rewriter::stand_in(name));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_encoder::{
        CodeSection, EntityType, ExportKind, ExportSection, FunctionSection, ImportSection,
        MemorySection, MemoryType, TypeSection, ValType,
    };

    /// A module shaped like the runtime where it matters: a `wasi:http/types` import, the
    /// two [`MODULE`] imports between other imports, functions that call them (`probe_env`,
    /// `probe_config`: fill the return area with ones, call, load it back) and one that
    /// calls the import after them (`call_after`).
    fn module() -> Vec<u8> {
        let mut types = TypeSection::new();
        types.ty().function([ValType::I32], []); // 0: (ret)
        types
            .ty()
            .function([ValType::I32, ValType::I32, ValType::I32], []); // 1: (key, len, ret)
        types.ty().function([], [ValType::I64]); // 2: probes
        let mut imports = ImportSection::new();
        imports.import("wasi:http/types@0.2.12", "x", EntityType::Function(0)); // 0
        imports.import(MODULE, GET_ENVIRONMENT, EntityType::Function(0)); // 1
        imports.import(MODULE, CONFIG_GET, EntityType::Function(1)); // 2
        imports.import("env", "after", EntityType::Function(0)); // 3
        let mut functions = FunctionSection::new();
        functions.function(2).function(2).function(0); // 4, 5, 6
        let mut memory = MemorySection::new();
        memory.memory(MemoryType {
            minimum: 1,
            maximum: None,
            memory64: false,
            shared: false,
            page_size_log2: None,
        });
        let mut exports = ExportSection::new();
        exports
            .export("probe_env", ExportKind::Func, 4)
            .export("probe_config", ExportKind::Func, 5)
            .export("call_after", ExportKind::Func, 6)
            .export("memory", ExportKind::Memory, 0);
        let mem = MemArg {
            offset: 0,
            align: 3,
            memory_index: 0,
        };
        let mut code = CodeSection::new();
        for (at, call, args) in [(16, 1u32, 0), (32, 2u32, 2)] {
            let mut f = Function::new([]);
            f.instruction(&Instruction::I32Const(at))
                .instruction(&Instruction::I64Const(-1))
                .instruction(&Instruction::I64Store(mem));
            for _ in 0..args {
                f.instruction(&Instruction::I32Const(0));
            }
            f.instruction(&Instruction::I32Const(at))
                .instruction(&Instruction::Call(call))
                .instruction(&Instruction::I32Const(at))
                .instruction(&Instruction::I64Load(mem))
                .instruction(&Instruction::End);
            code.function(&f);
        }
        let mut f = Function::new([]);
        f.instruction(&Instruction::LocalGet(0))
            .instruction(&Instruction::Call(3))
            .instruction(&Instruction::End);
        code.function(&f);
        let mut module = Module::new();
        module
            .section(&types)
            .section(&imports)
            .section(&functions)
            .section(&memory)
            .section(&exports)
            .section(&code);
        module.finish()
    }

    fn import_names(wasm: &[u8]) -> Vec<String> {
        let mut names = Vec::new();
        for payload in Parser::new(0).parse_all(wasm) {
            if let Payload::ImportSection(reader) = payload.unwrap() {
                for import in reader.into_imports() {
                    let import = import.unwrap();
                    names.push(format!("{}#{}", import.module, import.name));
                }
            }
        }
        names
    }

    #[test]
    fn none_replaces_both_imports_and_every_call_still_reaches_its_function() {
        let bound = bind_imports(&module(), HostConfig::NONE).unwrap();
        wasmparser::validate(&bound).unwrap();
        assert_eq!(
            import_names(&bound),
            ["wasi:http/types@0.2.12#x", "env#after"]
        );
        let engine = wasmtime::Engine::default();
        let module = wasmtime::Module::new(&engine, &bound).unwrap();
        let mut store = wasmtime::Store::new(&engine, Vec::<i32>::new());
        let mut linker = wasmtime::Linker::new(&engine);
        linker
            .func_wrap("wasi:http/types@0.2.12", "x", |_: i32| {})
            .unwrap();
        linker
            .func_wrap(
                "env",
                "after",
                |mut cx: wasmtime::Caller<'_, Vec<i32>>, v: i32| cx.data_mut().push(v),
            )
            .unwrap();
        let instance = linker.instantiate(&mut store, &module).unwrap();
        for probe in ["probe_env", "probe_config"] {
            let f = instance
                .get_typed_func::<(), i64>(&mut store, probe)
                .unwrap();
            // The return area zeroed: an empty list, `ok(none)`.
            assert_eq!(f.call(&mut store, ()).unwrap(), 0, "{probe}");
        }
        let after = instance
            .get_typed_func::<i32, ()>(&mut store, "call_after")
            .unwrap();
        after.call(&mut store, 7).unwrap();
        assert_eq!(store.data(), &[7]);
    }

    #[test]
    fn each_mode_imports_its_interface_and_describes_it() {
        for (host, import, wit) in [
            (
                HostConfig {
                    mode: RuntimeConfig::Env,
                    store: ConfigStore::Wasmtime,
                },
                "wasi:cli/environment@0.2.12#get-environment",
                "wasi:cli/environment@0.2.12",
            ),
            (
                HostConfig {
                    mode: RuntimeConfig::WasiConfig,
                    store: ConfigStore::Spin,
                },
                "wasi:config/store@0.2.0-draft-2024-09-27#get",
                "wasi:config/store@0.2.0-draft-2024-09-27",
            ),
        ] {
            let bound = bind_imports(&module(), host).unwrap();
            wasmparser::validate(&bound).unwrap();
            let names = import_names(&bound);
            assert_eq!(names.len(), 3, "{names:?}");
            assert!(names.contains(&import.to_string()), "{names:?}");
            assert!(!names.iter().any(|n| n.starts_with(MODULE)), "{names:?}");
            let metadata = Parser::new(0)
                .parse_all(&bound)
                .filter_map(|p| match p.unwrap() {
                    Payload::CustomSection(c) if c.name().starts_with("component-type") => {
                        Some(c.data().to_vec())
                    }
                    _ => None,
                })
                .next()
                .expect("component-type section");
            let text = String::from_utf8_lossy(&metadata);
            assert!(text.contains(wit), "{wit} not in the metadata");
        }
    }

    #[test]
    fn an_unknown_import_of_the_module_is_an_error_not_a_guess() {
        let mut types = TypeSection::new();
        types.ty().function([], []);
        let mut imports = ImportSection::new();
        imports.import(MODULE, "get-secrets", EntityType::Function(0));
        let mut module = Module::new();
        module.section(&types).section(&imports);
        let err = bind_imports(&module.finish(), HostConfig::NONE).unwrap_err();
        assert!(err.to_string().contains("get-secrets"), "{err}");
    }
}
