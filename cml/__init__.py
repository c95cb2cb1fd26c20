"""cml: continuous machine learning for GitHub Actions and GitLab CI."""

__version__ = "0.1.0"
