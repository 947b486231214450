// Public API of @fathom/optim.
