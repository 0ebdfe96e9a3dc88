"""Intake: which files the instructor pointed the grader at are submissions, and whose."""
