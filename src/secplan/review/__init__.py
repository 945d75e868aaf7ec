"""Review in merge requests: a merge request's discussions mapped to plan sections
(:mod:`secplan.review.mr`), the pure position arithmetic (:mod:`.positions`, :mod:`.diff`) and
the cache of mapped threads that ``secplan check`` counts (:mod:`.cache`).

Importing this package imports nothing else: ``secplan check`` reads the cache through it.
"""
