from fastapi import FastAPI

from app.api.routes import authors, health, orders

# The schema and the shop's data come with the database: every run starts on a copy of
# Folio's catalog (300 authors, their books, the readers' reviews, 100 orders).
app = FastAPI(title="Folio authors")
app.include_router(health.router)
app.include_router(authors.router)
app.include_router(orders.router)
