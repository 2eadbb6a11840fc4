use std::process::Command;
fn main() {
    let out = std::env::var("OUT_DIR").unwrap();
    println!("cargo:rerun-if-changed=csrc/f.c");
    let ok = Command::new("cc").args(["-g", "-O2", "-c", "csrc/f.c", "-o"]).arg(format!("{out}/f.o")).status().unwrap();
    assert!(ok.success());
    let ok = Command::new("ar").arg("crsD").arg(format!("{out}/libgrovef.a")).arg(format!("{out}/f.o")).status().unwrap();
    assert!(ok.success());
    println!("cargo:rustc-link-search=native={out}");
    println!("cargo:rustc-link-lib=static=grovef");
}
