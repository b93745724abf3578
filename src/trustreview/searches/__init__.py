"""A review's searches: the records of its database exports made into studies, with every
record accounted for (``intake``), the review folder that ``trustreview new`` and ``add``
write (``folder``), and the duplicates workbook a person decides (``duplicate_sheet``).
It may import ``io``, ``dedup``, ``base``, the run's notebook list and the schema; the
duplicate rules themselves are ``dedup``'s."""
