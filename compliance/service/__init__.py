"""The HTTP service: the app, authentication, the reviewer's page, worker processes and the
decision log."""
