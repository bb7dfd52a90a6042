//! The wheel carries queries/ and report_templates/ inside the package (sovaudit/queries, ...), where
//! sovaudit.resources looks first. maturin includes package data from a crate's OUT_DIR under a chosen prefix
//! (pyproject.toml, [tool.maturin] include), so they are copied there.

use std::path::Path;
use std::{env, fs, io};

fn copy_tree(from: &Path, to: &Path) -> io::Result<()> {
    fs::create_dir_all(to)?;
    for entry in fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_tree(&entry.path(), &target)?;
        } else {
            fs::copy(entry.path(), target)?;
        }
    }
    Ok(())
}

fn main() {
    let out = env::var("OUT_DIR").unwrap();
    let out = Path::new(&out);
    for name in ["queries", "report_templates"] {
        let _ = fs::remove_dir_all(out.join(name));
        let from = Path::new(&env::var("CARGO_MANIFEST_DIR").unwrap()).join("..").join(name);
        println!("cargo:rerun-if-changed={}", from.display());
        copy_tree(&from, &out.join(name)).unwrap_or_else(|e| panic!("copying {}: {e}", from.display()));
    }
    println!("cargo:rerun-if-changed=build.rs");
}
