external crc32 : string -> int = "uk_rust_crc32"
external scale : float -> float -> float = "uk_rust_scale"

(* CRC-32 (IEEE, reflected) in OCaml, to check Rust's result against. *)
let ocaml_crc32 s =
  let crc = ref 0xffffffff in
  String.iter
    (fun c ->
      crc := !crc lxor Char.code c;
      for _ = 1 to 8 do
        crc := if !crc land 1 = 1 then (!crc lsr 1) lxor 0xedb88320 else !crc lsr 1
      done)
    s;
  !crc lxor 0xffffffff

let report () =
  let text = "uktoolchain" in
  let rust = crc32 text and ocaml = ocaml_crc32 text in
  Printf.printf "Rust: crc32 %S = %08x (%s)\n%!" text rust
    (if rust = ocaml then "matches OCaml" else Printf.sprintf "OCaml says %08x" ocaml);
  Printf.printf "Rust: 2.5 * 4.25 + 0.5 = %g\n%!" (scale 2.5 4.25)
