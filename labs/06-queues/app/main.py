from fastapi import FastAPI

from app.api.routes import health, orders, reports

app = FastAPI(title="Folio back office")
app.include_router(health.router)
app.include_router(reports.router)
app.include_router(orders.router)
