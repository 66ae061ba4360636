"""The validation report: every textbook model and historical preset against its source.

``.venv/bin/python -m experiments.validation`` writes ``experiments/validation/report/report.md``
and its figures; ``--small`` runs the reduced version the test suite checks.
"""
