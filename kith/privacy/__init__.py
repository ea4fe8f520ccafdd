"""Privacy: erasing a person from everything Kith holds (``kith forget``).

- :mod:`kith.privacy.erase`: resolve the person, find their records, erase them crash-safely, verify.
- :mod:`kith.privacy.entities`: how each landing entity's rows are tied to a person.
- :mod:`kith.privacy.landing`: rewriting the landing archive without the person's lines.
- :mod:`kith.privacy.activation`: removes queued for the activation destinations.
- :mod:`kith.privacy.schema`: the ``privacy`` schema, the erasure log without personal data.
"""
