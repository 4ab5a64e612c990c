//! `pyedge package APP.wasm --oci-layout DIR` and `pyedge push APP.wasm REF`: a component
//! as a Wasm OCI artifact ([`crate::oci`]).

use super::inspect::read_wasm;
use super::Printer;
use crate::oci::{created_from_env, parse_annotations, Artifact};
use crate::report::human_bytes;
use anyhow::Result;
use std::path::PathBuf;

/// `pyedge package` arguments.
#[derive(clap::Args, Debug)]
pub struct PackageArgs {
    /// The component (.wasm) to package.
    pub wasm: PathBuf,
    /// Write an OCI image layout into this directory (it must not exist, or be empty).
    #[arg(long, value_name = "DIR")]
    pub oci_layout: PathBuf,
    /// The tag recorded in the layout's index.json (org.opencontainers.image.ref.name).
    #[arg(long)]
    pub tag: Option<String>,
    /// A manifest annotation, KEY=VALUE (repeatable).
    #[arg(long, value_name = "KEY=VALUE")]
    pub annotation: Vec<String>,
    /// Print one JSON document instead of text.
    #[arg(long)]
    pub json: bool,
}

/// `pyedge push` arguments.
#[derive(clap::Args, Debug)]
pub struct PushArgs {
    /// The component (.wasm) to push.
    pub wasm: PathBuf,
    /// Where to: REGISTRY/REPOSITORY[:TAG], e.g. ghcr.io/me/app:1.0.
    pub reference: String,
    /// Speak plain HTTP to the registry (a local or test registry).
    #[arg(long)]
    pub insecure: bool,
    /// A manifest annotation, KEY=VALUE (repeatable).
    #[arg(long, value_name = "KEY=VALUE")]
    pub annotation: Vec<String>,
    /// Print one JSON document instead of text.
    #[arg(long)]
    pub json: bool,
}

fn artifact(wasm: &std::path::Path, annotations: &[String]) -> Result<Artifact> {
    let annotations = parse_annotations(annotations)?;
    let created = created_from_env()?;
    let bytes = read_wasm(wasm)?;
    Ok(Artifact::new(wasm, bytes, &created, annotations)?)
}

/// Run `pyedge package`.
pub fn run_package(args: &PackageArgs, printer: &Printer) -> Result<()> {
    let artifact = artifact(&args.wasm, &args.annotation)?;
    artifact.write_layout(&args.oci_layout, args.tag.as_deref())?;
    let digest = artifact.manifest_digest();
    if printer.json() {
        printer.out_json(&serde_json::json!({
            "ok": true,
            "layout": args.oci_layout,
            "manifest_digest": digest,
            "layer_size": artifact.layer.len(),
        }))?;
    } else {
        printer.out(&format!(
            "wrote OCI layout {} ({} component, manifest {digest})\n",
            args.oci_layout.display(),
            human_bytes(artifact.layer.len() as u64)
        ))?;
    }
    Ok(())
}

/// Run `pyedge push`.
pub fn run_push(args: &PushArgs, printer: &Printer) -> Result<()> {
    let artifact = artifact(&args.wasm, &args.annotation)?;
    printer.note(&format!(
        "pushing {} ({}) to {}",
        args.wasm.display(),
        human_bytes(artifact.layer.len() as u64),
        args.reference
    ));
    let pinned = artifact.push(&args.reference, args.insecure)?;
    if printer.json() {
        printer.out_json(&serde_json::json!({
            "ok": true,
            "reference": args.reference,
            "pinned": pinned,
            "manifest_digest": artifact.manifest_digest(),
            "layer_size": artifact.layer.len(),
        }))?;
    } else {
        printer.out(&format!("pushed {} as {pinned}\n", args.reference))?;
    }
    Ok(())
}
