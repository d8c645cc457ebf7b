"""The labapi benchmark (issue 8): `python -m bench --scale 10k|100k|1m`."""
