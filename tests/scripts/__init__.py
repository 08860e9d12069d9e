"""Programs the front-door tests run (in subprocesses), and the helpers that run them."""
