from fastapi import FastAPI

from app.api.routes import books, health, recommendations, stats

app = FastAPI(title="Folio storefront")
app.include_router(health.router)
app.include_router(stats.router)
app.include_router(books.router)
app.include_router(recommendations.router)
