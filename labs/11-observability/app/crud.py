from sqlmodel import Session, func, select

from app.models import Book

SEED = [
    ("Dune", "Frank Herbert", 1099),
    ("The Left Hand of Darkness", "Ursula K. Le Guin", 999),
    ("Neuromancer", "William Gibson", 1299),
    ("Kindred", "Octavia E. Butler", 1150),
    ("The Dispossessed", "Ursula K. Le Guin", 1050),
    ("Foundation", "Isaac Asimov", 899),
    ("Hyperion", "Dan Simmons", 1399),
    ("Solaris", "Stanislaw Lem", 1199),
    ("The Book of the New Sun", "Gene Wolfe", 1899),
    ("Parable of the Sower", "Octavia E. Butler", 1099),
    ("A Wizard of Earthsea", "Ursula K. Le Guin", 799),
    ("The Stars My Destination", "Alfred Bester", 949),
    ("Snow Crash", "Neal Stephenson", 1249),
    ("Ancillary Justice", "Ann Leckie", 1149),
    ("Roadside Picnic", "Arkady and Boris Strugatsky", 899),
    ("The Fifth Season", "N. K. Jemisin", 1299),
    ("Rendezvous with Rama", "Arthur C. Clarke", 999),
    ("Blindsight", "Peter Watts", 1199),
    ("The Left Hand of God", "Paul Hoffman", 1099),
    ("Station Eleven", "Emily St. John Mandel", 1349),
]


def seed_books(*, session: Session) -> None:
    """A small catalogue, once: every run starts on a fresh database."""
    if session.exec(select(func.count()).select_from(Book)).one() == 0:
        session.add_all(Book(title=t, author=a, price_cents=p) for t, a, p in SEED)
        session.commit()
