"""Results: grading one submission end to end, a batch across worker processes, and the
results.json a graded submission is written as."""
