let () = print_endline "Hello from OCaml on Solo5!"
