"""Small shared helpers: paths, atomic writes, errors."""
