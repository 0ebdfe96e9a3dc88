"""Who copied: `grader similarity` compares the graded functions' code of every pair of
submissions (and published solutions given with --reference), names and comments set aside and
the handout's code excluded, and writes the ranked pairs (similarity.csv, similarity.html).

documents (what code each contributes) -> fingerprint (copydetect's filter, winnowed k-grams)
-> pairs (weighted shared fingerprints, through an inverted index) -> report.
"""
