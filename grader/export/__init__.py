"""Grading elsewhere: Gradescope, GitHub Classroom and private bundles, JUnit XML, LMS grade
files."""
