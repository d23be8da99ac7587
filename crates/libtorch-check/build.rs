//! Fails the build with a clear message when libtorch is missing or has the wrong version.
use std::path::PathBuf;

const EXPECTED: &str = "2.13.0";

fn main() {
    println!("cargo:rerun-if-env-changed=LIBTORCH");
    let Some(dir) = std::env::var_os("LIBTORCH").map(PathBuf::from) else {
        fail("LIBTORCH is not set; build from the repository root so .cargo/config.toml applies");
    };
    let version_file = dir.join("build-version");
    println!("cargo:rerun-if-changed={}", version_file.display());
    match std::fs::read_to_string(&version_file) {
        Err(_) => fail(&format!("libtorch is not installed at {}", dir.display())),
        Ok(v) => {
            let v = v.trim();
            let base = v.split_once('+').map_or(v, |(base, _)| base);
            if base != EXPECTED {
                fail(&format!(
                    "libtorch at {} is version {v}, but tch 0.26 needs {EXPECTED}",
                    dir.display()
                ));
            }
        }
    }
}

fn fail(why: &str) -> ! {
    eprintln!();
    eprintln!("error: {why}.");
    eprintln!("  Run `./x setup` (or `scripts/setup-libtorch.sh`) from the repository root,");
    eprintln!("  then build again. See docs/libtorch.md for a CUDA-capable libtorch.");
    eprintln!();
    std::process::exit(1);
}
