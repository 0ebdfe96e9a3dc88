"""The course: its assignments (spec, reference, cases) and the test cases as plain data. The
first layer: every later stage reads these; they import no other stage."""
