//! The organizer's dashboard is TypeScript built by the UI's toolchain into
//! `dashboard/dist/`, which this crate compiles in. Without it the build would stop at an
//! `include_str!` that says only "No such file": say what to run instead.

fn main() {
    // Read when the script runs, not when it is compiled: a build cache shared by several
    // clones must look in this one.
    let manifest = std::env::var("CARGO_MANIFEST_DIR").unwrap_or_default();
    let dist = std::path::Path::new(&manifest).join("../../dashboard/dist");
    for file in ["index.html", "dashboard.js", "dashboard.css"] {
        let path = dist.join(file);
        println!("cargo::rerun-if-changed={}", path.display());
        if !path.is_file() {
            panic!(
                "{} is missing: build the dashboard first (cd ui && npm ci && npm run build; scripts/deps.sh does it)",
                path.display()
            );
        }
    }
}
