"""A small built-in gazetteer and great-circle distance, so `nearest` routing works offline.

Orders carry no coordinates, only an address. ``locate(country, region)`` turns the
address into a point: the capital of a Brazilian state (by UF code or by name), else a
country's centroid. Good to tens of kilometres inside a state, which is what choosing
between fulfillment points needs; an exact geocoder can replace it later.
"""

import math
import unicodedata
from dataclasses import dataclass

EARTH_RADIUS_KM = 6371.0088


@dataclass(frozen=True)
class Place:
    latitude: float
    longitude: float
    label: str  # what the point stands for, e.g. "São Paulo, capital of SP"
    precision: str  # "region" or "country"

    @property
    def coordinates(self) -> tuple[float, float]:
        return (self.latitude, self.longitude)


# Brazilian states: UF code -> (name, capital, latitude, longitude of the capital).
BR_STATES: dict[str, tuple[str, str, float, float]] = {
    "AC": ("Acre", "Rio Branco", -9.9747, -67.8100),
    "AL": ("Alagoas", "Maceió", -9.6658, -35.7353),
    "AP": ("Amapá", "Macapá", 0.0349, -51.0694),
    "AM": ("Amazonas", "Manaus", -3.1190, -60.0217),
    "BA": ("Bahia", "Salvador", -12.9714, -38.5014),
    "CE": ("Ceará", "Fortaleza", -3.7319, -38.5267),
    "DF": ("Distrito Federal", "Brasília", -15.7939, -47.8828),
    "ES": ("Espírito Santo", "Vitória", -20.3155, -40.3128),
    "GO": ("Goiás", "Goiânia", -16.6869, -49.2648),
    "MA": ("Maranhão", "São Luís", -2.5307, -44.3068),
    "MT": ("Mato Grosso", "Cuiabá", -15.6014, -56.0979),
    "MS": ("Mato Grosso do Sul", "Campo Grande", -20.4697, -54.6201),
    "MG": ("Minas Gerais", "Belo Horizonte", -19.9167, -43.9345),
    "PA": ("Pará", "Belém", -1.4558, -48.4902),
    "PB": ("Paraíba", "João Pessoa", -7.1195, -34.8450),
    "PR": ("Paraná", "Curitiba", -25.4284, -49.2733),
    "PE": ("Pernambuco", "Recife", -8.0476, -34.8770),
    "PI": ("Piauí", "Teresina", -5.0920, -42.8038),
    "RJ": ("Rio de Janeiro", "Rio de Janeiro", -22.9068, -43.1729),
    "RN": ("Rio Grande do Norte", "Natal", -5.7945, -35.2110),
    "RS": ("Rio Grande do Sul", "Porto Alegre", -30.0346, -51.2177),
    "RO": ("Rondônia", "Porto Velho", -8.7612, -63.9004),
    "RR": ("Roraima", "Boa Vista", 2.8235, -60.6758),
    "SC": ("Santa Catarina", "Florianópolis", -27.5954, -48.5480),
    "SP": ("São Paulo", "São Paulo", -23.5505, -46.6333),
    "SE": ("Sergipe", "Aracaju", -10.9472, -37.0731),
    "TO": ("Tocantins", "Palmas", -10.2491, -48.3243),
}

# A few country centroids, for cross-border orders and addresses without a region.
COUNTRIES: dict[str, tuple[str, float, float]] = {
    "BR": ("Brazil", -14.2350, -51.9253),
    "AR": ("Argentina", -38.4161, -63.6167),
    "CL": ("Chile", -35.6751, -71.5430),
    "UY": ("Uruguay", -32.5228, -55.7658),
    "PY": ("Paraguay", -23.4425, -58.4438),
    "MX": ("Mexico", 23.6345, -102.5528),
    "US": ("United States", 37.0902, -95.7129),
    "CA": ("Canada", 56.1304, -106.3468),
    "PT": ("Portugal", 39.3999, -8.2245),
    "ES": ("Spain", 40.4637, -3.7492),
    "FR": ("France", 46.2276, 2.2137),
    "DE": ("Germany", 51.1657, 10.4515),
    "IT": ("Italy", 41.8719, 12.5674),
    "NL": ("Netherlands", 52.1326, 5.2913),
    "GB": ("United Kingdom", 55.3781, -3.4360),
}


def _fold(text: str) -> str:
    """Upper case without accents: "São Paulo" -> "SAO PAULO"."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    return "".join(c for c in decomposed if not unicodedata.combining(c)).strip().upper()


_BR_BY_NAME = {_fold(name): uf for uf, (name, *_rest) in BR_STATES.items()}


def region_code(country: str, region: str) -> str:
    """Normalise a region to its code where the table knows it ("Minas Gerais" -> "MG")."""
    folded = _fold(region)
    if _fold(country) == "BR":
        if folded in BR_STATES:
            return folded
        return _BR_BY_NAME.get(folded, folded)
    return folded


def locate(country: str, region: str = "") -> Place | None:
    """The best point the table has for an address: its state capital, else its country's
    centroid, else None."""
    country = _fold(country)
    if country == "BR":
        uf = region_code(country, region)
        if uf in BR_STATES:
            name, capital, lat, lon = BR_STATES[uf]
            return Place(lat, lon, f"{capital}, capital of {uf}", "region")
    if country in COUNTRIES:
        name, lat, lon = COUNTRIES[country]
        return Place(lat, lon, f"centre of {name}", "country")
    return None


def haversine_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance in kilometres between two (latitude, longitude) points."""
    lat1, lon1 = map(math.radians, a)
    lat2, lon2 = map(math.radians, b)
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))
