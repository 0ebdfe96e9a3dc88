"""LMS downloads as each LMS writes them, built in a test's temporary folder from the bundled
rnn_linear samples (whose scores differ: correct_* 13, double_mean 10, sign_flipped 9,
batch_sum 5.6667, global_n_samples 5.1667, so a score says which notebook was graded).

The names follow each LMS's own code or export (see grader/intake/layouts.py for the rules):
Canvas's ContentZipper (sortable name lower-cased and stripped of everything but word
characters, `LATE`, user id or `anon_<id>`, attachment id, display name; written by rubyzip
without the UTF-8 flag), Moodle's "Download all submissions" (both layouts; Moodle's zip writer
sets the UTF-8 flag), Blackboard's "Assignment File Download" (files and .txt receipts per
attempt), Gradescope's "Export Submissions" (submission_metadata.yml, one folder a submission).
"""
import hashlib
import unicodedata
import zipfile
from pathlib import Path

from tests.grading import COURSE

SAMPLES = COURSE / "assignments" / "rnn_linear" / "samples"
SCORES = {"correct_loop": "13", "correct_vectorized": "13", "double_mean": "10",
          "sign_flipped": "9", "batch_sum": "5.6667", "global_n_samples": "5.1667"}


def sample(name: str) -> bytes:
    return (SAMPLES / f"{name}.ipynb").read_bytes()


def sha(name: str) -> str:
    """The sha256 the gradebook records for a sample graded unchanged."""
    return hashlib.sha256(sample(name)).hexdigest()


class _RawName(zipfile.ZipInfo):
    """A member whose name is stored as raw UTF-8 bytes without the UTF-8 flag, as rubyzip
    (Canvas) and macOS's Archive Utility write them."""

    def _encodeFilenameFlags(self):
        return self.filename.encode("utf-8"), self.flag_bits & ~0x800


def write_zip(path: Path, members, *, utf8_flag: bool = True) -> Path:
    """`members`: (name, bytes, (y, m, d, H, M, S)) in order; a name ending in / is a folder."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data, when in members:
            info = (zipfile.ZipInfo if utf8_flag else _RawName)(name, date_time=when)
            info.compress_type = zipfile.ZIP_DEFLATED
            if name.endswith("/"):
                info.external_attr = 0o40755 << 16 | 0x10
            else:
                info.external_attr = 0o100644 << 16
            archive.writestr(info, data)
    return path


MARCH_1 = (2024, 3, 1, 21, 5, 12)
MARCH_2 = (2024, 3, 2, 23, 58, 2)


def canvas_zip(folder: Path) -> Path:
    """`Download Submissions` of an rnn_linear assignment in Canvas (rubyzip: no UTF-8 flag).

    - 12345 홍길동 (sortable name "홍, 길동"): one notebook, correct_loop
    - 12346 Kim, Minji: late; two attachments named after the assignment, the second a
      re-upload that Canvas renamed rnn_linear-1.ipynb (attachment 900010 > 900002):
      correct_vectorized is graded, batch_sum is not
    - 12347 Smith, John: scratch.ipynb (sign_flipped) and RNN_Linear.ipynb (correct_loop)
    - 12348 García, María: hw.ipynb only (double_mean)
    - 12349 Park, Jisoo: rnn_linear.ipynb (global_n_samples) and notes.pdf
    - 12350 Lee, Sora: a .py file only
    - 12351 Choi, Yuna: an online text entry only
    - 12352 Jung, Woo: a zip of her folder (nested archive)
    - macOS clutter: .DS_Store, __MACOSX/
    """
    return write_zip(folder / "course-rnn_linear_submissions.zip", [
        ("홍길동_12345_900001_rnn_linear.ipynb", sample("correct_loop"), MARCH_1),
        ("kimminji_LATE_12346_900002_rnn_linear.ipynb", sample("batch_sum"), MARCH_1),
        ("kimminji_LATE_12346_900010_rnn_linear-1.ipynb", sample("correct_vectorized"), MARCH_1),
        ("smithjohn_12347_900003_scratch.ipynb", sample("sign_flipped"), MARCH_1),
        ("smithjohn_12347_900004_RNN_Linear.ipynb", sample("correct_loop"), MARCH_1),
        ("garcíamaría_12348_900005_hw.ipynb", sample("double_mean"), MARCH_1),
        ("parkjisoo_12349_900006_rnn_linear.ipynb", sample("global_n_samples"), MARCH_1),
        ("parkjisoo_12349_900007_notes.pdf", b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n", MARCH_1),
        ("leesora_12350_900008_rnn_linear.py", b"def output_gradient(y, t):\n    pass\n",
         MARCH_1),
        ("choiyuna_12351_text.html", "<p>제출합니다</p>".encode(), MARCH_1),
        ("jungwoo_12352_900009_rnn_linear.zip", _inner_zip(), MARCH_1),
        (".DS_Store", b"\0\0\0\1Bud1", MARCH_2),
        ("__MACOSX/", b"", MARCH_2),
        ("__MACOSX/._홍길동_12345_900001_rnn_linear.ipynb", b"\0\5\26\7", MARCH_2),
    ], utf8_flag=False)


def _inner_zip() -> bytes:
    import io

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("rnn_linear/rnn_linear.ipynb", sample("correct_loop"))
    return buffer.getvalue()


def anonymous_canvas_zip(folder: Path) -> Path:
    """Canvas with anonymous grading on: no names, `anon_<anonymous id>` for the user id."""
    return write_zip(folder / "anonymous.zip", [
        ("anon_Gx9Zk_901001_rnn_linear.ipynb", sample("sign_flipped"), MARCH_1),
        ("LATE_anon_Qw3Rt_901002_rnn_linear.ipynb", sample("correct_loop"), MARCH_2),
    ], utf8_flag=False)


def moodle_zip(folder: Path) -> Path:
    """Moodle 4 "Download all submissions", one folder a student and plugin.

    - 501 김민준: rnn_linear.ipynb (correct_loop)
    - 502 Emily Chen: rnn_linear.ipynb (1 March, batch_sum), rnn_linear_final.ipynb
      (2 March, correct_vectorized): both named after the assignment, the newer is graded
    - 503 이서연: draft.ipynb and final.ipynb, equally new, neither named after the
      assignment: not graded, both named; an online text too
    - 504 Jan Novák: rnn_linear.ipynb (sign_flipped) in a subfolder, and report.pdf
    - grading_notes.txt, the instructor's, not a Moodle name
    """
    return write_zip(folder / "CS101-RNN Linear-4711.zip", [
        ("김민준_501_assignsubmission_file/rnn_linear.ipynb", sample("correct_loop"), MARCH_1),
        ("Emily Chen_502_assignsubmission_file/rnn_linear.ipynb", sample("batch_sum"), MARCH_1),
        ("Emily Chen_502_assignsubmission_file/rnn_linear_final.ipynb",
         sample("correct_vectorized"), MARCH_2),
        ("이서연_503_assignsubmission_file/draft.ipynb", sample("double_mean"), MARCH_1),
        ("이서연_503_assignsubmission_file/final.ipynb", sample("global_n_samples"), MARCH_1),
        ("이서연_503_assignsubmission_onlinetext/onlinetext.html", "<p>안녕하세요</p>".encode(),
         MARCH_1),
        ("Jan Novák_504_assignsubmission_file/work/rnn_linear.ipynb", sample("sign_flipped"),
         MARCH_1),
        ("Jan Novák_504_assignsubmission_file/report.pdf", b"%PDF-1.5\n", MARCH_1),
        ("grading_notes.txt", b"TODO: check late penalties\n", MARCH_2),
        ("__MACOSX/Emily Chen_502_assignsubmission_file/._rnn_linear.ipynb", b"\0", MARCH_2),
    ])


def moodle_flat_zip(folder: Path) -> Path:
    """Moodle before 3.1, or "Download submissions in folders" off: one flat level."""
    return write_zip(folder / "moodle-flat.zip", [
        ("김민준_501_assignsubmission_file_rnn_linear.ipynb", sample("double_mean"), MARCH_1),
        ("Emily Chen_502_assignsubmission_file_rnn_linear.ipynb", sample("correct_loop"),
         MARCH_1),
        ("Emily Chen_502_assignsubmission_file_helpers.py", b"import numpy as np\n", MARCH_1),
        ("Jan Novák_504_assignsubmission_onlinetext_onlinetext.html", b"<p>see file</p>",
         MARCH_1),
    ])


RECEIPT = """Name: {name} ({user})
Assignment: RNN Linear
Date Submitted: {date}
Current Grade: Needs Grading

Submission Field:
{text}

Comments:
There are no student comments for this assignment.

Files:
{files}"""
NO_TEXT = "There is no student submission text data for this assignment."


def _receipt(name, user, stamp, date, originals, text=NO_TEXT):
    files = "".join(f"\tOriginal filename: {o}\n\tFilename: RNN Linear_{user}_attempt_{stamp}"
                    f"_{o}\n" for o in originals) or "No files were attached to this submission.\n"
    return RECEIPT.format(name=name, user=user, date=date, text=text, files=files).encode()


def blackboard_zip(folder: Path) -> Path:
    """Blackboard Learn "Assignment File Download" of assignment "RNN Linear", all attempts.

    - jdoe (John Doe): attempt 1 on 1 March (batch_sum), attempt 2 on 2 March (correct_loop)
    - hong_gd (홍길동): a username with an underscore, one attempt (correct_vectorized)
    - msmith (Mary Smith): homework.ipynb (sign_flipped) and homework.pdf in one attempt
    - kpark (Kim Park): a text submission, no file
    """
    t1, t2, t3 = "2024-03-01-10-00-00", "2024-03-02-09-30-00", "2024-03-01-12-00-00"
    members = [
        (f"RNN Linear_jdoe_attempt_{t1}.txt", _receipt(
            "John Doe", "jdoe", t1, "Friday, March 1, 2024 10:00:00 AM KST", ["rnn_linear.ipynb"]),
         MARCH_1),
        (f"RNN Linear_jdoe_attempt_{t1}_rnn_linear.ipynb", sample("batch_sum"), MARCH_1),
        (f"RNN Linear_jdoe_attempt_{t2}.txt", _receipt(
            "John Doe", "jdoe", t2, "Saturday, March 2, 2024 9:30:00 AM KST", ["rnn_linear.ipynb"]),
         MARCH_2),
        (f"RNN Linear_jdoe_attempt_{t2}_rnn_linear.ipynb", sample("correct_loop"), MARCH_2),
        (f"RNN Linear_hong_gd_attempt_{t3}.txt", _receipt(
            "홍길동", "hong_gd", t3, "Friday, March 1, 2024 12:00:00 PM KST", ["rnn_linear.ipynb"]),
         MARCH_1),
        (f"RNN Linear_hong_gd_attempt_{t3}_rnn_linear.ipynb", sample("correct_vectorized"),
         MARCH_1),
        (f"RNN Linear_msmith_attempt_{t1}.txt", _receipt(
            "Mary Smith", "msmith", t1, "Friday, March 1, 2024 10:00:00 AM KST",
            ["homework.ipynb", "homework.pdf"]), MARCH_1),
        (f"RNN Linear_msmith_attempt_{t1}_homework.ipynb", sample("sign_flipped"), MARCH_1),
        (f"RNN Linear_msmith_attempt_{t1}_homework.pdf", b"%PDF-1.4\n", MARCH_1),
        (f"RNN Linear_kpark_attempt_{t3}.txt", _receipt(
            "Kim Park", "kpark", t3, "Friday, March 1, 2024 12:00:00 PM KST", [],
            text="I pasted my answer here"), MARCH_1),
        ("__MACOSX/._RNN Linear_jdoe_attempt_2024-03-01-10-00-00.txt", b"\0", MARCH_2),
    ]
    return write_zip(folder / "gradebook_CS101_RNN20Linear_2024-03-03-08-00-00.zip", members)


GRADESCOPE_METADATA = """\
submission_241000001:
  :submitters:
  - :name: 홍길동
    :sid: '2024001'
    :email: gildong@example.ac.kr
  :created_at: 2024-03-02 23:58:01.123456000 +09:00
  :score: 0.0
  :status: processed
submission_241000002:
  :submitters:
  - :name: Alice Kim
    :sid: '2024002'
    :email: alice@example.ac.kr
  - :name: 박서준
    :sid: '2024003'
    :email: seojun@example.ac.kr
  :created_at: 2024-03-01 10:15:00.000000000 +09:00
  :score: 0.0
  :status: processed
submission_241000003:
  :submitters:
  - :name: Ravi Patel
    :sid: ''
    :email: ravi@example.ac.kr
  :created_at: 2024-03-01 09:00:00.000000000 +09:00
  :score: 0.0
  :status: processed
"""


def gradescope_zip(folder: Path) -> Path:
    """Gradescope "Export Submissions" of a programming assignment.

    - 홍길동 (2024001): rnn_linear.ipynb (correct_loop)
    - a group: Alice Kim (2024002) and 박서준 (2024003): rnn_linear.ipynb (sign_flipped) and
      helpers.py
    - Ravi Patel, no SID (known by email): hw/rnn_linear.ipynb (double_mean) beside a Jupyter
      checkpoint copy
    - submission_241000004: a folder the metadata does not list
    """
    root = "assignment_4410321_export/"
    return write_zip(folder / "assignment_4410321_export.zip", [
        (root + "submission_metadata.yml", GRADESCOPE_METADATA.encode(), MARCH_2),
        (root + "submission_241000001/rnn_linear.ipynb", sample("correct_loop"), MARCH_2),
        (root + "submission_241000002/rnn_linear.ipynb", sample("sign_flipped"), MARCH_1),
        (root + "submission_241000002/helpers.py", b"import numpy as np\n", MARCH_1),
        (root + "submission_241000003/hw/rnn_linear.ipynb", sample("double_mean"), MARCH_1),
        (root + "submission_241000003/hw/.ipynb_checkpoints/rnn_linear-checkpoint.ipynb",
         sample("batch_sum"), MARCH_1),
        (root + "submission_241000004/rnn_linear.ipynb", sample("batch_sum"), MARCH_1),
    ])


def named_folder(folder: Path) -> Path:
    """A folder of an LMS this grader does not know, its file names written on macOS (NFD):
    `hw1-<student number>-<name>-<YYYYMMDDTHHMM>.ipynb`, two attempts of one student."""
    folder.mkdir()
    for name, source in (("hw1-2024001-홍길동-20240301T1000.ipynb", "batch_sum"),
                         ("hw1-2024001-홍길동-20240302T0900.ipynb", "correct_loop"),
                         ("hw1-2024002-Zoë Martin-20240301T1100.ipynb", "sign_flipped"),
                         ("README.txt", None)):
        data = sample(source) if source else b"course files\n"
        (folder / unicodedata.normalize("NFD", name)).write_bytes(data)
    return folder
