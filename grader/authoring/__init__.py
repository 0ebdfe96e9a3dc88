"""Authoring: building the handout notebooks and samples from an assignment, and measuring
what its tests catch before release."""
