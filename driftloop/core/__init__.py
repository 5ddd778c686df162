"""The foundation every layer stands on: the validated config, the errors, the process set-up.

The bottom layer: it imports no other part of driftloop.
"""
