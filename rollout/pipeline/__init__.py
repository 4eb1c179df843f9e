"""Per region, a pipeline of stages over one recorded scope, and the one place that builds it."""
