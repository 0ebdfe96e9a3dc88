"""The read stage: a notebook's code cells in, the slice of it the graded functions need out.

`cells` parses each code cell (IPython syntax stripped), `statements` says what each top-level
statement binds and reads, `slicing` keeps every statement the graded functions need, and
`extract` assembles the kept statements into a Submission. Nothing here runs student code.
"""
