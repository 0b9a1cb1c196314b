"""`emb sweep`: search an experiment's flags on dev with Optuna, every trial a run of the lab.

space.py      the search space: a recipe's default or a --space TOML file, checked before any work
experiment.py the experiment file: its flags (asked of it), one trial as a subprocess
study.py      the study: storage, the trial loop, Ctrl-C, model clean-up, the best run's link
summary.py    the results: best on dev, confidence intervals, the paired test, table and JSON
page.py       the study's offline report page (Optuna's plotly figures)
"""
