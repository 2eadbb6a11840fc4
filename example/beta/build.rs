fn main() {
    println!("cargo:rerun-if-changed=gen-input.txt");
    let s = std::fs::read_to_string("gen-input.txt").unwrap();
    let out = std::env::var("OUT_DIR").unwrap();
    std::fs::write(format!("{out}/gen.rs"), format!("pub const GEN: &str = {:?};", s.trim())).unwrap();
    // Like typenum: point the crate at a generated file through an env var.
    std::fs::write(format!("{out}/len.rs"), format!("pub const LEN: usize = {};", s.trim().len())).unwrap();
    println!("cargo:rustc-env=BETA_LEN_RS={out}/len.rs");
}
