"""The `grader` command's entry point. When it grades, the sandbox workers start before the
grader's own modules load, so that their warm-up and those imports overlap."""
import sys


def main():
    from grader.sandbox import launch

    launch.start_early(sys.argv[1:])
    try:
        from grader.cli import main as command

        command(prog_name="grader")
    finally:
        launch.stop_early()
