"""Running the checks on more than one engine: the portable check dialect (docs/portable-sql.md), its lint
(lint.py) and what the engines need from the policy (glob_regex.py)."""
