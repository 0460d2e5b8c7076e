"""The year-end documents the bloc's office files: score table (`score_table`), minutes and
report (`word`), from the data of `model`. Import the module you need: python-docx and openpyxl
load only with their documents."""
