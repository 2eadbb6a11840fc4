fn main() { println!("{}", beta::all()); }
