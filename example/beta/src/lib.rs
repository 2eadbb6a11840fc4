mod gen {
    include!(concat!(env!("OUT_DIR"), "/gen.rs"));
}
mod len {
    include!(env!("BETA_LEN_RS"));
}
pub fn all() -> String {
    format!(
        "names={} data={} env={} loud={} cfg={} gen={} len={} native={} debug={}",
        alpha::names(), alpha::DATA.trim(), alpha::env_value(), alpha::LOUD, alpha::CFG,
        gen::GEN, len::LEN, alpha::native(), alpha::opt()
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn gen_is_set() { assert!(super::gen::GEN.starts_with("gen-")); }
    #[test]
    fn native_works() { assert_eq!(alpha::native() % 2, 0); }
}
