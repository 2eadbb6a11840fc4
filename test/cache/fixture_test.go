package cache_test

// fixture is a three-crate workspace that exercises every kind of input the
// key must cover: modules, include_str!, option_env!, features, --cfg, a
// build script generating code into OUT_DIR, and a C static library linked
// into `alpha` and reaching the binary only through `beta` (so only the link
// closure can see it change).
func fixture() map[string]string {
	return map[string]string{
		".gitignore": "/target\n",
		"Cargo.toml": `[workspace]
resolver = "2"
members = ["alpha", "beta", "app"]
`,
		"alpha/Cargo.toml": `[package]
name = "alpha"
version = "0.1.0"
edition = "2021"

[features]
loud = []

[lints.rust]
unexpected_cfgs = { level = "allow" }
`,
		"alpha/build.rs": `use std::process::Command;
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
`,
		"alpha/csrc/f.c": "int grove_native(int x) { return x * 10; }\n",
		"alpha/data.txt": "data-1\n",
		"alpha/src/a.rs": "pub const NAME: &str = \"A\";\n",
		"alpha/src/b.rs": "pub const NAME: &str = \"B\";\n",
		"alpha/src/lib.rs": `mod a;
mod b;
extern "C" {
    fn grove_native(x: i32) -> i32;
}
pub fn names() -> String { format!("{}{}", a::NAME, b::NAME) }
pub const DATA: &str = include_str!("../data.txt");
pub fn env_value() -> &'static str { option_env!("GROVE_T_ENV").unwrap_or("unset") }
#[cfg(feature = "loud")]
pub const LOUD: bool = true;
#[cfg(not(feature = "loud"))]
pub const LOUD: bool = false;
#[cfg(grove_t_cfg)]
pub const CFG: bool = true;
#[cfg(not(grove_t_cfg))]
pub const CFG: bool = false;
pub fn native() -> i32 { unsafe { grove_native(2) } }
pub fn opt() -> bool { cfg!(debug_assertions) }
`,
		"beta/Cargo.toml": `[package]
name = "beta"
version = "0.1.0"
edition = "2021"

[dependencies]
alpha = { path = "../alpha" }
`,
		"beta/build.rs": `fn main() {
    println!("cargo:rerun-if-changed=gen-input.txt");
    let s = std::fs::read_to_string("gen-input.txt").unwrap();
    let out = std::env::var("OUT_DIR").unwrap();
    std::fs::write(format!("{out}/gen.rs"), format!("pub const GEN: &str = {:?};", s.trim())).unwrap();
}
`,
		"beta/gen-input.txt": "gen-1\n",
		"beta/src/lib.rs": `mod gen {
    include!(concat!(env!("OUT_DIR"), "/gen.rs"));
}
pub fn all() -> String {
    format!(
        "names={} data={} env={} loud={} cfg={} gen={} native={} debug={}",
        alpha::names(), alpha::DATA.trim(), alpha::env_value(), alpha::LOUD, alpha::CFG,
        gen::GEN, alpha::native(), alpha::opt()
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn gen_is_set() { assert!(super::gen::GEN.starts_with("gen-")); }
    #[test]
    fn native_works() { assert_eq!(alpha::native() % 2, 0); }
}
`,
		"app/Cargo.toml": `[package]
name = "app"
version = "0.1.0"
edition = "2021"

[dependencies]
beta = { path = "../beta" }
`,
		"app/src/main.rs": "fn main() { println!(\"{}\", beta::all()); }\n",
	}
}
