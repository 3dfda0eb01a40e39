(* A float crosses the OCaml/C boundary both ways: a float-ABI mismatch would show in the result. *)
external scale : float -> int -> float = "uk_greeting_scale"
