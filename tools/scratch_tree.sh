# Sourced by the sanitizer and valgrind scripts: copy the working tree (tracked and untracked,
# not ignored files) into a scratch directory so the special build never touches the user's
# build, and make a venv there with the test dependencies (pyproject's test extra, and NumPy for
# memory mode's tests).
#   in:  $1 python interpreter
#   out: $work (scratch dir, removed on exit), $vpy (its venv's python)
py=${1:-python3}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$root" && git ls-files -z --cached --others --exclude-standard |
    xargs -0 cp --parents -t "$work")
"$py" -m venv "$work/venv"
vpy="$work/venv/bin/python"
"$vpy" -m pip install -q setuptools pytest line_profiler ipython jsonschema numpy greenlet 2>&1 | { grep -v "^WARNING: Location" || true; }
cd "$work"
