"""``%name?`` prints each magic's real arguments, as IPython's own magics do."""

from __future__ import annotations

import pytest

USAGE = {
    "%fedchain": [
        "%fedchain start [--dir .fedchain]",
        "%fedchain serve [--port 0] [--host 127.0.0.1 --allow-remote] [--token-env VAR]",
        "%fedchain connect URL [--dir .fedchain] [--blobs URL] [--contract 0xADDR]",
        "%fedchain status",
        "%fedchain stop",
        "--traceback <{on,off}>",
    ],
    "%fedtask": [
        "%fedtask create MODEL_VAR [--name N] [--rounds 5] [--min-participants 2]",
        "%fedtask invite TASK",
        "%fedtask wait TASK ROUND PHASE [--timeout 600]",
        "%fedtask list",
        "%fedtask show TASK",
        "%fedtask next TASK",
        "%fedtask use TASK MODEL_VAR",
        "--submission-window BLOCKS",
        "--scheme <{bfv,ckks}>",
    ],
    "%fedjoin": [
        "%fedjoin TASK --as NAME --data X_VAR,y_VAR [--validator]",
        "%fedjoin --invite CARD --as NAME --data X_VAR,y_VAR [--dir .fedchain]",
        "--as NAME",
        "--data <X_VAR,y_VAR>",
        "--validator",
    ],
    "%fedkeys": [
        "%fedkeys account NAME",
        "%fedkeys encryption [--as key-holder] [--scheme bfv|ckks] [--max-parties 10]",
    ],
    "%%fedtrain": ["%%fedtrain TASK --as NAME [--model VAR]", "--model VAR", "global_model"],
    "%fedsubmit": ["%fedsubmit TASK --as NAME", "--as NAME"],
    "%fedaggregate": ["%fedaggregate TASK", "decrypt it and commit the new global model"],
    "%fedvalidate": ["%fedvalidate TASK --as NAME [--data X_VAR,y_VAR]", "--data <X_VAR,y_VAR>"],
    "%fedrewards": ["%fedrewards [TASK] [--claim --as NAME | --claim-all]", "--claim-all"],
    "%fedledger": ["%fedledger [TASK]", "live"],
    "%fedsim": [
        "%fedsim MODEL_VAR --data X_VAR,y_VAR --test X_VAR,y_VAR [--parties 3] [--rounds 5]",
        "--split <{iid,dirichlet}>",
        "--alpha ALPHA",
    ],
}


@pytest.mark.parametrize(("magic", "expected"), USAGE.items(), ids=USAGE.keys())
def test_question_mark_prints_the_arguments(ipython, capsys, magic, expected):
    ipython.run_line_magic("pinfo", magic)  # what `%fedjoin?` runs
    shown = capsys.readouterr().out
    assert "Docstring:" in shown
    for text in expected:
        assert text in shown
