"""LMS downloads graded as they come: `grader grade rnn_linear DOWNLOAD.zip` (or the folder it
unpacks to) knows each student by the LMS's id, keeps their name, lateness and attempt time,
picks one notebook per student, and lists everything else with the reason."""
import csv
import json
import unicodedata
import zipfile

import pytest
from click.testing import CliRunner

from grader.cli import main
from grader.gradebook.store import Gradebook
from tests import lms_downloads as lms
from tests.grading import COURSE


def grade(download, tmp_path, *options):
    """(result, {submission: grades.csv row}, {student: latest Run}, {student: roster row},
    out folder)."""
    out, book = tmp_path / "out", tmp_path / "book.sqlite"
    result = CliRunner().invoke(main, ["grade", "rnn_linear", str(download), "-o", str(out),
                                       "--course", str(COURSE), "--gradebook", str(book),
                                       "--no-html", "--jobs", "2", *options])
    rows = {r["submission"]: r for r in csv.DictReader((out / "grades.csv").open())} \
        if (out / "grades.csv").exists() else {}
    runs, roster = {}, {}
    if book.exists():
        with Gradebook(book) as gb:
            runs = {run.student: run for run in gb.latest_runs("rnn_linear")}
            roster = {row["student"]: row for row in gb.roster()}
    return result, rows, runs, roster, out


def graded(rows, runs, expected):
    """Each student's score and recorded notebook are the sample's named in `expected`."""
    for student, name in expected.items():
        assert rows[student]["score"] == lms.SCORES[name], (student, rows[student])
        assert runs[student].content_hash == lms.sha(name), student


def lms_data(out, student):
    return json.loads((out / student / "results.json").read_text())["extra_data"]["lms"]


# ---- Canvas -------------------------------------------------------------------------------------

def test_a_canvas_download_is_graded_by_canvas_user_id(tmp_path):
    result, rows, runs, roster, out = grade(lms.canvas_zip(tmp_path), tmp_path)
    assert result.exit_code == 1, result.output  # something was left out
    assert "canvas download" in result.output.lower()
    graded(rows, runs, {"12345": "correct_loop", "12346": "correct_vectorized",
                        "12347": "correct_loop", "12348": "double_mean",
                        "12349": "global_n_samples"})
    assert set(runs) == {"12345", "12346", "12347", "12348", "12349"}
    # names as Canvas writes them (sortable name, lower case, word characters only), scripts intact
    assert {s: roster[s]["name"] for s in runs} == {
        "12345": "홍길동", "12346": "kimminji", "12347": "smithjohn", "12348": "garcíamaría",
        "12349": "parkjisoo"}
    assert all(unicodedata.is_normalized("NFC", row["name"]) for row in roster.values())
    assert roster["12345"]["lms"] == "canvas" and roster["12345"]["canvas_id"] == "12345"
    assert runs["12346"].late == 1 and runs["12345"].late == 0
    assert lms_data(out, "12346")["late"] is True and lms_data(out, "12345")["late"] is False
    assert lms_data(out, "12346")["file"] == "rnn_linear-1.ipynb"
    assert lms_data(out, "12345")["name"] == "홍길동"


def test_a_canvas_download_lists_what_it_does_not_grade(tmp_path):
    result, rows, runs, _, _ = grade(lms.canvas_zip(tmp_path), tmp_path)
    output = result.output
    for words in ("parkjisoo_12349_900007_notes.pdf: not a notebook",
                  "12350 (leesora): no notebook (holds rnn_linear.py)",
                  "12351 (choiyuna): no notebook (holds text.html)",
                  "jungwoo_12352_900009_rnn_linear.zip: an archive inside the download"):
        assert words in output, words
    left = {k: r for k, r in rows.items() if r["score"] == ""}
    assert set(left) == {"parkjisoo_12349_900007_notes.pdf", "12350", "12351",
                         "jungwoo_12352_900009_rnn_linear.zip", "12352"}
    assert "DS_Store" not in output and "MACOSX" not in output  # the OS's own files
    # the picks are said, with the files not graded
    assert "12347 (smithjohn): graded RNN_Linear.ipynb (named after rnn_linear); not " \
           "scratch.ipynb" in output
    assert "12346 (kimminji): graded rnn_linear-1.ipynb (the newest of those named after " \
           "rnn_linear); not rnn_linear.ipynb" in output


def test_an_unpacked_canvas_folder_is_graded_the_same(tmp_path):
    download = lms.canvas_zip(tmp_path)
    folder = tmp_path / "unpacked"
    with zipfile.ZipFile(download) as archive:  # as `unzip` leaves it: names decoded as UTF-8
        for info in archive.infolist():
            name = info.filename.encode("cp437").decode("utf-8")
            target = folder / name
            if name.endswith("/"):
                target.mkdir(parents=True, exist_ok=True)
            else:
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(archive.read(info))
    result, rows, runs, roster, _ = grade(folder, tmp_path)
    assert result.exit_code == 1, result.output
    graded(rows, runs, {"12345": "correct_loop", "12346": "correct_vectorized",
                        "12347": "correct_loop"})
    assert roster["12345"]["name"] == "홍길동"


def test_anonymous_canvas_submissions_keep_their_anonymous_ids(tmp_path):
    result, rows, runs, roster, _ = grade(lms.anonymous_canvas_zip(tmp_path), tmp_path)
    assert result.exit_code == 0, result.output
    graded(rows, runs, {"anon_Gx9Zk": "sign_flipped", "anon_Qw3Rt": "correct_loop"})
    assert runs["anon_Qw3Rt"].late == 1 and runs["anon_Gx9Zk"].late == 0
    assert roster["anon_Gx9Zk"]["name"] == "" and roster["anon_Gx9Zk"]["canvas_id"] == ""
    export = CliRunner().invoke(main, ["gradebook", "export", "--format", "canvas",
                                       "--gradebook", str(tmp_path / "book.sqlite")])
    assert export.exit_code == 0 and "no id Canvas can match" in export.stderr
    assert "anon_Gx9Zk, anon_Qw3Rt" in export.stderr


def test_canvas_round_trip_fills_canvas_id_column_without_a_roster(tmp_path):
    """Download → grade → gradebook export --format canvas: the ID column is Canvas's user id."""
    result, rows, *_ = grade(lms.canvas_zip(tmp_path), tmp_path)
    assert rows["12345"]["score"] == "13", result.output
    export = CliRunner().invoke(main, ["gradebook", "export", "--format", "canvas",
                                       "--gradebook", str(tmp_path / "book.sqlite"),
                                       "--lms-id", "rnn_linear=4711"])
    assert export.exit_code == 0, export.output
    table = list(csv.DictReader(export.stdout.splitlines()))
    column = [c for c in table[0] if c.endswith("(4711)")][0]
    by_id = {row["ID"]: row for row in table}
    assert set(by_id) == {"12345", "12346", "12347", "12348", "12349"}
    assert by_id["12345"]["Student"] == "홍길동" and by_id["12345"][column] == "13"
    assert by_id["12346"][column] == "13" and by_id["12349"][column] == "5.1667"
    assert all(row["SIS Login ID"] == "" for row in table)  # Canvas matches by ID


def test_a_download_is_regraded_from_its_unpacked_copy_or_a_new_zip(tmp_path):
    """The unpacked download stays in OUT/.unpacked, where the gradebook's paths point; a new
    download of the same LMS regrades the named students with their new lateness."""
    download = lms.canvas_zip(tmp_path)
    grade(download, tmp_path)
    where = ["--course", str(COURSE), "--gradebook", str(tmp_path / "book.sqlite"),
             "-o", str(tmp_path / "out"), "--no-html"]
    again = CliRunner().invoke(main, ["regrade", "rnn_linear", "--student", "12345", *where])
    assert again.exit_code == 0, again.output
    later = lms.write_zip(tmp_path / "later.zip", [
        ("홍길동_LATE_12345_900020_rnn_linear.ipynb", lms.sample("sign_flipped"), lms.MARCH_2)],
        utf8_flag=False)
    newer = CliRunner().invoke(main, ["regrade", "rnn_linear", "--student", "12345",
                                      "--submissions", str(later), *where])
    assert newer.exit_code == 0, newer.output
    with Gradebook(tmp_path / "book.sqlite") as gb:
        runs = gb.history("12345", "rnn_linear")
    assert [(r.score, r.late) for r in runs] == [(13, 0), (13, 0), (9, 1)]
    assert runs[-1].content_hash == lms.sha("sign_flipped")


# ---- Moodle -------------------------------------------------------------------------------------

def test_a_moodle_download_in_folders(tmp_path):
    result, rows, runs, roster, out = grade(lms.moodle_zip(tmp_path), tmp_path)
    assert result.exit_code == 1, result.output
    assert "moodle download" in result.output.lower()
    graded(rows, runs, {"501": "correct_loop", "502": "correct_vectorized",
                        "504": "sign_flipped"})
    assert {s: roster[s]["name"] for s in runs} == {"501": "김민준", "502": "Emily Chen",
                                                     "504": "Jan Novák"}
    assert runs["501"].late is None  # Moodle's download does not say
    output = result.output
    assert "503 (이서연): 2 notebooks (draft.ipynb, final.ipynb), none named after " \
           "rnn_linear, equally new: pick one with --pick" in output
    assert "Jan Novák_504_assignsubmission_file/report.pdf: not a notebook" in output
    assert "이서연_503_assignsubmission_onlinetext/onlinetext.html: not a notebook" in output
    assert "grading_notes.txt: not named as Moodle names submissions" in output
    assert set(k for k, r in rows.items() if r["score"] == "") == {
        "503", "Jan Novák_504_assignsubmission_file/report.pdf",
        "이서연_503_assignsubmission_onlinetext/onlinetext.html", "grading_notes.txt"}
    assert "502 (Emily Chen): graded rnn_linear_final.ipynb (the newest of those named " \
           "after rnn_linear); not rnn_linear.ipynb" in output
    assert lms_data(out, "504")["file"] == "work/rnn_linear.ipynb"


def test_pick_decides_for_a_moodle_student_with_two_notebooks(tmp_path):
    result, rows, runs, _, _ = grade(lms.moodle_zip(tmp_path), tmp_path, "--pick",
                                     "name=final*", "--student", "503")
    assert result.exit_code == 0, result.output
    graded(rows, runs, {"503": "global_n_samples"})


def test_a_flat_moodle_download(tmp_path):
    result, rows, runs, roster, _ = grade(lms.moodle_flat_zip(tmp_path), tmp_path)
    assert result.exit_code == 1, result.output
    graded(rows, runs, {"501": "double_mean", "502": "correct_loop"})
    assert roster["501"]["name"] == "김민준" and roster["502"]["lms"] == "moodle"
    assert "Emily Chen_502_assignsubmission_file_helpers.py: not a notebook" in result.output
    assert "504 (Jan Novák): no notebook (holds onlinetext.html)" in result.output


# ---- Blackboard ---------------------------------------------------------------------------------

def test_a_blackboard_download_grades_each_students_latest_attempt(tmp_path):
    result, rows, runs, roster, out = grade(lms.blackboard_zip(tmp_path), tmp_path)
    assert result.exit_code == 1, result.output
    assert "blackboard download" in result.output.lower()
    graded(rows, runs, {"jdoe": "correct_loop", "hong_gd": "correct_vectorized",
                        "msmith": "sign_flipped"})
    assert {s: roster[s]["name"] for s in runs} == {"jdoe": "John Doe", "hong_gd": "홍길동",
                                                     "msmith": "Mary Smith"}
    assert roster["jdoe"]["sis_login_id"] == "jdoe"
    assert runs["jdoe"].submitted_at == "2024-03-02T09:30:00"
    assert lms_data(out, "jdoe")["submitted_at"] == "2024-03-02T09:30:00"
    assert "jdoe (John Doe): graded the latest of 2 attempts (2024-03-02T09:30:00); not " \
           "2024-03-01T10:00:00" in result.output
    assert "RNN Linear_msmith_attempt_2024-03-01-10-00-00_homework.pdf: not a notebook" \
        in result.output
    assert "kpark (Kim Park): no notebook (no file attached)" in result.output
    assert set(k for k, r in rows.items() if r["score"] == "") == {
        "kpark", "RNN Linear_msmith_attempt_2024-03-01-10-00-00_homework.pdf"}


# ---- Gradescope ---------------------------------------------------------------------------------

def test_a_gradescope_export(tmp_path):
    result, rows, runs, roster, out = grade(lms.gradescope_zip(tmp_path), tmp_path)
    assert result.exit_code == 1, result.output
    assert "gradescope export" in result.output.lower()
    graded(rows, runs, {"2024001": "correct_loop", "2024002": "sign_flipped",
                        "2024003": "sign_flipped", "ravi@example.ac.kr": "double_mean"})
    assert {s: roster[s]["name"] for s in runs} == {
        "2024001": "홍길동", "2024002": "Alice Kim", "2024003": "박서준",
        "ravi@example.ac.kr": "Ravi Patel"}
    assert roster["2024003"]["sis_user_id"] == "2024003"
    assert roster["2024003"]["email"] == "seojun@example.ac.kr"
    assert runs["2024001"].submitted_at == "2024-03-02T23:58:01+09:00"
    assert lms_data(out, "2024003")["group"] == ["2024002", "2024003"]
    output = result.output
    assert "submission_241000002/helpers.py: not a notebook" in output
    assert "submission_241000004: not in submission_metadata.yml" in output
    assert "checkpoint" not in output


# ---- any other naming: --id-pattern -------------------------------------------------------------

PATTERN = r"hw1-(?P<student>\d+)-(?P<name>[^-]+)-(?P<timestamp>\d{8}T\d{4})"


def test_id_pattern_names_students_of_any_other_layout(tmp_path):
    folder = lms.named_folder(tmp_path / "hw1")
    result, rows, runs, roster, _ = grade(folder, tmp_path, "--id-pattern", PATTERN)
    assert result.exit_code == 1, result.output
    graded(rows, runs, {"2024001": "correct_loop", "2024002": "sign_flipped"})
    assert roster["2024001"]["name"] == "홍길동"  # NFD on disk, NFC in the gradebook
    assert roster["2024002"]["name"] == "Zoë Martin"
    assert unicodedata.is_normalized("NFC", roster["2024002"]["name"])
    assert runs["2024001"].submitted_at == "20240302T0900"
    assert "README.txt: does not match --id-pattern" in result.output


def test_id_pattern_needs_a_student_group(tmp_path):
    folder = lms.named_folder(tmp_path / "hw1")
    result, *_ = grade(folder, tmp_path, "--id-pattern", r"hw1-(\d+)")
    assert result.exit_code == 2 and "(?P<student>" in result.output
    result, *_ = grade(folder, tmp_path, "--id-pattern", r"hw1-(?P<student>\d+")
    assert result.exit_code == 2 and "--id-pattern" in result.output


def test_a_folder_of_plain_notebooks_is_still_graded_by_file_name(tmp_path):
    folder = tmp_path / "plain"
    folder.mkdir()
    (folder / "alice.ipynb").write_bytes(lms.sample("correct_loop"))
    (folder / "bob_2.ipynb").write_bytes(lms.sample("batch_sum"))
    result, rows, runs, roster, _ = grade(folder, tmp_path)
    assert result.exit_code == 0, result.output
    graded(rows, runs, {"alice": "correct_loop", "bob_2": "batch_sum"})
    assert roster == {}  # nobody the grader knows more of than the file name


# ---- a download is untrusted input ------------------------------------------------------------

def _hostile_zip(path):
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("smithjohn_12347_900004_rnn_linear.ipynb", lms.sample("correct_loop"))
        archive.writestr("../escaped.ipynb", lms.sample("batch_sum"))
        archive.writestr("/tmp/absolute.ipynb", lms.sample("batch_sum"))
        archive.writestr("..\\windows.ipynb", lms.sample("batch_sum"))
        link = zipfile.ZipInfo("kimminji_12346_900002_rnn_linear.ipynb")
        link.external_attr = 0o120777 << 16  # a symbolic link to the grader's own files
        archive.writestr(link, "/etc/passwd")
        archive.writestr("parkjisoo_12349_900006_big.ipynb", b" " * 40_000)
    return path


def test_unpacking_writes_nothing_outside_its_folder(tmp_path):
    from grader.intake.archive import Limits, unpack

    download = _hostile_zip(tmp_path / "hostile.zip")
    unpacked = unpack(download, tmp_path / "deep" / "into", Limits(member=32 << 10))
    written = sorted(p.relative_to(unpacked.folder).as_posix()
                     for p in unpacked.folder.rglob("*"))
    assert written == ["smithjohn_12347_900004_rnn_linear.ipynb"]
    refused = dict(unpacked.refused)
    assert "outside" in refused["../escaped.ipynb"]
    assert "absolute" in refused["/tmp/absolute.ipynb"]
    assert "outside" in refused["..\\windows.ipynb"]
    assert "symbolic link" in refused["kimminji_12346_900002_rnn_linear.ipynb"]
    assert "39.1 KiB, more than the 32.0 KiB" in refused["parkjisoo_12349_900006_big.ipynb"]
    assert not (tmp_path / "escaped.ipynb").exists() and not (tmp_path / "deep" /
                                                               "escaped.ipynb").exists()


def test_a_download_over_the_limits_is_refused_whole(tmp_path):
    from grader.intake.archive import ArchiveError, Limits, unpack

    download = lms.canvas_zip(tmp_path)
    with pytest.raises(ArchiveError, match="14 members, more than the 3 a download"):
        unpack(download, tmp_path / "a", Limits(members=3))
    with pytest.raises(ArchiveError, match="unpacked, more than"):
        unpack(download, tmp_path / "b", Limits(total=10_000))
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


def test_refused_members_are_listed_when_grading(tmp_path):
    result, rows, runs, _, _ = grade(_hostile_zip(tmp_path / "hostile.zip"), tmp_path)
    assert result.exit_code == 1, result.output
    graded(rows, runs, {"12347": "correct_loop"})
    assert "../escaped.ipynb: a path leading outside the download's folder" in result.output
    assert "kimminji_12346_900002_rnn_linear.ipynb: a symbolic link" in result.output


def test_a_damaged_zip_is_a_one_line_error(tmp_path):
    broken = tmp_path / "download.zip"
    broken.write_bytes(lms.canvas_zip(tmp_path).read_bytes()[:-200])
    result, *_ = grade(broken, tmp_path)
    assert result.exit_code == 2 and "download.zip" in result.output
    assert len(result.output.strip().splitlines()) == 1, result.output
