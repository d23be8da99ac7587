// Found only when .libtorch/ is missing: the real libtorch headers come first on the
// include path (-I from torch-sys); this folder is last (CPLUS_INCLUDE_PATH, set in
// .cargo/config.toml).
#error "libtorch is not installed in .libtorch/ -- run `./x setup` (or scripts/setup-libtorch.sh) from the repository root, then build again; see docs/libtorch.md"
