"""Relevance cases on the demo content (content/demo): a reader's words and the answer
that must come in the top 3. Plain data, so the tests (tests/test_search.py) and the
benchmark that scores each engine on them (bench/relevance.py) read the same list."""

RELEVANCE = [
    ("does lightning hit the same spot twice", "/q/lightning-same-place-twice"),
    ("can astronauts see the great wall of china", "/q/great-wall-visible-from-space"),
    ("why is the sky blue", "/q/why-is-the-sky-blue"),
    ("sky colour scattering", "/q/why-is-the-sky-blue"),
    ("Rayleigh scattering", "/q/why-is-the-sky-blue"),
    ("is msg unhealthy", "/q/msg-bad-for-you"),
    ("goldfish memory", "/q/goldfish-memory"),
    ("how short was Napoleon", "/q/napoleon-short"),
    ("vikings horns", "/q/vikings-horned-helmets"),
    ("incognito private browsing", "/q/incognito-mode-anonymous"),
    ("charging phone all night battery damage", "/q/phone-charging-overnight"),
    ("do microwaves make food radioactive", "/q/microwaves-radioactive-food"),
    ("knuckle cracking", "/q/cracking-knuckles-arthritis"),
    ("einstein maths", "/q/einstein-failed-math"),
    ("camel hump water", "/q/camels-store-water"),
]
