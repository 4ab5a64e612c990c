//! A scan for function-pointer casts that would trap (issue 19, part 2).
//!
//! In WebAssembly an indirect call checks the callee's exact signature: C code that
//! stores `PyObject *f(PyObject *self)` where a `PyObject *(*)(PyObject *, PyObject *)`
//! is expected works on native targets and traps here ("indirect call type mismatch").
//! Wasmtime only finds out when the call happens, mid-request.
//!
//! What can be seen in the linked module: every function that can be called indirectly
//! is in the table (an element segment), and every `call_indirect` names the signature
//! it calls with. A table function whose signature no `call_indirect` in the module uses
//! can never be called indirectly without trapping. Such a function is either only
//! compared or exported through a table that nothing calls here (a C API capsule, a
//! library's unused callback slot), or a cast waiting to trap. The runtime's test keeps
//! the list of known ones, each with its reason, so a new one fails the tests until
//! someone reads the C.
//!
//! This catches a cast to a signature nothing else uses (a callback with a parameter too
//! many or too few, where that shape is rare); a cast between two signatures that both
//! have indirect callers needs a run to show it. The gc-stress pass of CPython's own
//! tests does that.

use anyhow::Result;
use std::collections::{BTreeSet, HashMap};
use wasmparser::{ElementItems, FuncType, KnownCustom, Name, Operator, Parser, Payload, TypeRef};

/// A table function no indirect call can reach with its own signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suspect {
    /// Its function index.
    pub index: u32,
    /// Its name from the name section (empty without one).
    pub name: String,
    /// Its signature, as `(i32, i32) -> i32`.
    pub signature: String,
}

fn signature(ty: &FuncType) -> String {
    let list = |types: &[wasmparser::ValType]| {
        types
            .iter()
            .map(|t| t.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    };
    format!("({}) -> ({})", list(ty.params()), list(ty.results()))
}

/// The table functions of core module `module` whose signature no `call_indirect` of
/// the module uses, in index order.
pub fn indirect_call_suspects(module: &[u8]) -> Result<Vec<Suspect>> {
    let mut types: Vec<FuncType> = Vec::new();
    let mut function_types: Vec<u32> = Vec::new();
    let mut in_table: BTreeSet<u32> = BTreeSet::new();
    let mut called: BTreeSet<String> = BTreeSet::new();
    let mut names: HashMap<u32, String> = HashMap::new();
    for payload in Parser::new(0).parse_all(module) {
        match payload? {
            Payload::TypeSection(reader) => {
                for ty in reader.into_iter_err_on_gc_types() {
                    types.push(ty?);
                }
            }
            Payload::ImportSection(reader) => {
                for import in reader.into_imports() {
                    if let TypeRef::Func(ty) = import?.ty {
                        function_types.push(ty);
                    }
                }
            }
            Payload::FunctionSection(reader) => {
                for ty in reader {
                    function_types.push(ty?);
                }
            }
            Payload::ElementSection(reader) => {
                for element in reader {
                    if let ElementItems::Functions(functions) = element?.items {
                        for function in functions {
                            in_table.insert(function?);
                        }
                    }
                }
            }
            Payload::CodeSectionEntry(body) => {
                let mut ops = body.get_operators_reader()?;
                while !ops.eof() {
                    if let Operator::CallIndirect { type_index, .. } = ops.read()? {
                        if let Some(ty) = types.get(type_index as usize) {
                            called.insert(signature(ty));
                        }
                    }
                }
            }
            Payload::CustomSection(section) => {
                if let KnownCustom::Name(reader) = section.as_known() {
                    for name in reader {
                        if let Ok(Name::Function(map)) = name {
                            for naming in map.into_iter().flatten() {
                                names.insert(naming.index, naming.name.to_string());
                            }
                        }
                    }
                }
            }
            _ => {}
        }
    }
    let mut suspects = Vec::new();
    for index in in_table {
        let Some(ty) = function_types
            .get(index as usize)
            .and_then(|t| types.get(*t as usize))
        else {
            continue;
        };
        let signature = signature(ty);
        if !called.contains(&signature) {
            suspects.push(Suspect {
                index,
                name: names.get(&index).cloned().unwrap_or_default(),
                signature,
            });
        }
    }
    Ok(suspects)
}

#[cfg(all(test, feature = "host"))]
mod tests {
    use super::*;

    /// Table functions of the runtime that no indirect call reaches, each read in the C
    /// and found harmless.
    const KNOWN: &[(&str, &str)] = &[
        (
            "new_time_ex2",
            "CPython's datetime C API capsule (PyDateTime_CAPI.Time_FromTimeAndFold): for \
             extension modules, none of which the runtime links",
        ),
        // mbedTLS's RSA pk_info table (rsa_encrypt_wrap, rsa_decrypt_wrap: pyedge's
        // cryptography facade only signs and verifies with RSA, so nothing calls them) was
        // listed until BearSSL came in: one of its indirect calls has their eight-i32
        // signature, so the scan can no longer tell them from callable functions.
    ];

    /// The same for the numpy variants, instead of [`KNOWN`]: numpy's datetime code calls
    /// through CPython's datetime capsule, so `new_time_ex2`'s signature has indirect
    /// callers there.
    const KNOWN_NUMPY: &[(&str, &str)] = &[
        (
            "NpyDatetime_ConvertDatetime64ToDatetimeStruct",
            "numpy's C API table (PyArray_API, the `_ARRAY_API` capsule) for other \
             extension modules: called through the table with its declared signature, by \
             none of the modules linked here",
        ),
        (
            "PyArray_Arange",
            "numpy's C API table, as above: no module linked here calls it",
        ),
        (
            "PyUFunc_FromFuncAndDataAndSignatureAndIdentity",
            "numpy's ufunc C API table (PyUFunc_API, the `_UFUNC_API` capsule), as above",
        ),
    ];

    #[test]
    fn the_runtimes_have_no_unexplained_function_pointer_casts() {
        for (world, module, numpy) in [
            ("http", crate::runtime::PYTHON_HTTP_WASM, false),
            ("cli", crate::runtime::PYTHON_CLI_WASM, false),
            ("http+numpy", crate::runtime::PYTHON_HTTP_NUMPY_WASM, true),
            ("cli+numpy", crate::runtime::PYTHON_CLI_NUMPY_WASM, true),
        ] {
            let known = if numpy { KNOWN_NUMPY } else { KNOWN };
            let suspects = indirect_call_suspects(module).unwrap();
            let unknown: Vec<_> = suspects
                .iter()
                .filter(|s| !known.iter().any(|(name, _)| *name == s.name))
                .collect();
            assert!(
                unknown.is_empty(),
                "the {world} runtime has table functions whose signature no indirect call \
                 uses (a function-pointer cast that would trap when called?): {unknown:#?}"
            );
            // The list stays honest: every known entry is still there.
            for (name, why) in known {
                assert!(
                    suspects.iter().any(|s| s.name == *name),
                    "{name} ({why}) is no longer a suspect in the {world} runtime: drop it"
                );
            }
        }
    }

    #[test]
    fn a_callback_with_a_parameter_too_many_is_found() {
        // (func $cb (param i32 i32) (result i32)) in the table; the only indirect call
        // is with (param i32) (result i32).
        let module = wat_module();
        let suspects = indirect_call_suspects(&module).unwrap();
        assert_eq!(suspects.len(), 1, "{suspects:?}");
        assert_eq!(suspects[0].signature, "(i32, i32) -> (i32)");
    }

    /// A module built with wasm-encoder: a table holding `cb` (2 params) and `ok` (1
    /// param), and a function that calls indirectly with the 1-param signature.
    fn wat_module() -> Vec<u8> {
        use wasm_encoder::{
            CodeSection, ElementSection, Elements, Function, FunctionSection, Instruction, Module,
            RefType, TableSection, TableType, TypeSection, ValType,
        };
        let mut module = Module::new();
        let mut types = TypeSection::new();
        types.ty().function([ValType::I32], [ValType::I32]);
        types
            .ty()
            .function([ValType::I32, ValType::I32], [ValType::I32]);
        module.section(&types);
        let mut functions = FunctionSection::new();
        functions.function(0); // ok
        functions.function(1); // cb
        functions.function(0); // caller
        module.section(&functions);
        let mut tables = TableSection::new();
        tables.table(TableType {
            element_type: RefType::FUNCREF,
            minimum: 2,
            maximum: Some(2),
            table64: false,
            shared: false,
        });
        module.section(&tables);
        let mut elements = ElementSection::new();
        elements.active(
            Some(0),
            &wasm_encoder::ConstExpr::i32_const(0),
            Elements::Functions(std::borrow::Cow::Borrowed(&[0, 1])),
        );
        module.section(&elements);
        let mut code = CodeSection::new();
        for _ in 0..2 {
            let mut f = Function::new([]);
            f.instruction(&Instruction::LocalGet(0));
            f.instruction(&Instruction::End);
            code.function(&f);
        }
        let mut caller = Function::new([]);
        caller.instruction(&Instruction::LocalGet(0));
        caller.instruction(&Instruction::I32Const(1));
        caller.instruction(&Instruction::CallIndirect {
            type_index: 0,
            table_index: 0,
        });
        caller.instruction(&Instruction::End);
        code.function(&caller);
        module.section(&code);
        module.finish()
    }
}
