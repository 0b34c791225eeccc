"""The pages (scoreboard, announcer, timekeeper console, spectator results): issue 6."""
