"""Training: exercises a trainee plays in rounds, scored against a goal, with a debrief.

>>> from salessim.training import Exercise, Session, baseline, check_answer
>>> ex = Exercise.load("scenarios/exercises/01-find-the-bottleneck.yaml")  # doctest: +SKIP
>>> game = Session(ex)                                                    # doctest: +SKIP
>>> game.decide({"legal": 3}); game.play()                                # doctest: +SKIP
>>> game.pipeline(); game.pools(); game.kpis()                            # doctest: +SKIP

The layer sits on top of the engine: it uses the sandbox, results and statistics, and
nothing below imports it. The page for trainees is ``salessim.training.page`` (Panel,
``pip install 'salessim[training]'``).
"""

from salessim.scenario.exercise_spec import AnswerSpec, Decision
from salessim.training.exercise import Exercise
from salessim.training.levers import Plan, plan
from salessim.training.scoring import Score, baseline, check_answer
from salessim.training.session import Session

__all__ = ["AnswerSpec", "Decision", "Exercise", "Plan", "Score", "Session", "baseline",
           "check_answer", "plan"]
