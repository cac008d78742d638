//! The `nanoshop` command: `serve`, `seed`, `reindex`, `import`, `export`, `token`, `openapi`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use clap::{Parser, Subcommand};
use nanoshop::local::{self, LocalConfig, LocalSecrets, StoreLocation};
use nanoshop::local_images::LocalImages;
use nanoshop::transfer::client::{self, ApiClient};
use nanoshop::transfer::progress::Progress;
use nanoshop::transfer::{self, CatalogApi, Format, RetryPolicy};
use nanoshop_payments::PaymentGateway;
use nanoshop_payments::simulator::Simulator;
use nanoshop_payments::stripe::StripeGateway;
use nanoshop_store::dynamo::TableNames;

#[derive(Debug, Parser)]
#[command(name = "nanoshop", version, about = "nanoshop: a serverless commerce backend, run locally")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, clap::Args)]
struct DataDir {
    /// Where the embedded store, uploaded images and generated secrets live.
    #[arg(long, env = "NANOSHOP_DATA_DIR", default_value = ".nanoshop")]
    data_dir: PathBuf,
}

/// Where `serve` keeps the shop: the data dir's embedded file unless DynamoDB tables are named.
#[derive(Debug, clap::Args)]
struct StoreArgs {
    /// Keep the shop in DynamoDB tables at this endpoint (DynamoDB Local or moto, such as
    /// http://127.0.0.1:8000) instead of the data dir's embedded file. Credentials are dummies;
    /// the region is AWS_REGION (us-east-1 without it).
    #[arg(long, env = "NANOSHOP_DYNAMODB_ENDPOINT", requires = "table_prefix")]
    dynamodb_endpoint: Option<String>,
    /// With --dynamodb-endpoint: the tables are `<prefix>-catalog`, `<prefix>-carts`,
    /// `<prefix>-orders` and `<prefix>-idempotency`.
    #[arg(long, env = "NANOSHOP_TABLE_PREFIX", requires = "dynamodb_endpoint")]
    table_prefix: Option<String>,
    /// With --dynamodb-endpoint: create the tables that are missing, as the SAM template
    /// declares them, before serving.
    #[arg(long, requires = "dynamodb_endpoint")]
    create_tables: bool,
}

impl StoreArgs {
    fn location(&self) -> StoreLocation {
        match (&self.dynamodb_endpoint, &self.table_prefix) {
            (Some(endpoint), Some(prefix)) => StoreLocation::Dynamo {
                endpoint: endpoint.clone(),
                tables: TableNames::with_prefix(prefix),
                create: self.create_tables,
            },
            // clap requires both or neither.
            _ => StoreLocation::Embedded,
        }
    }
}

/// Which store `import` and `export` talk to: a deployed API, or the data dir's store.
#[derive(Debug, clap::Args)]
struct Remote {
    /// The API of a deployed store (https://…); without it, the local store in the data dir.
    #[arg(long, requires = "token")]
    api: Option<String>,
    /// An admin token for `--api`.
    #[arg(long, env = "NANOSHOP_API_TOKEN", hide_env_values = true)]
    token: Option<String>,
}

/// An OpenID provider whose tokens `nanoshop serve` accepts instead of its own: what a deployed
/// function's `AUTH_ISSUER`, `AUTH_AUDIENCE` and `AUTH_ADMIN_CLAIM` say. Prefixed variables here,
/// like serve's others, so a shell set up for a deployment does not switch `make dev` over.
#[derive(Debug, clap::Args)]
struct Issuer {
    /// Accept the ID tokens of this OpenID issuer (keys found by discovery) instead of the local
    /// server's: POST /dev/token is then not served. https, or http on a loopback address.
    #[arg(long, env = "NANOSHOP_AUTH_ISSUER", requires = "auth_audience")]
    auth_issuer: Option<String>,
    /// The `aud` of the issuer's tokens: the storefront's client id.
    #[arg(long, env = "NANOSHOP_AUTH_AUDIENCE", requires = "auth_issuer")]
    auth_audience: Option<String>,
    /// The claim listing a caller's groups; the group `admin` makes an administrator.
    #[arg(long, env = "NANOSHOP_AUTH_ADMIN_CLAIM", default_value = nanoshop_api::auth::DEFAULT_ADMIN_CLAIM)]
    auth_admin_claim: String,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve every function, the storefront and the local-only routes on one address.
    Serve {
        /// Where to listen: a loopback address unless --public is given. Port 0 picks a free port;
        /// the "serving at" log line names it.
        #[arg(long, env = "NANOSHOP_ADDR", default_value = "127.0.0.1:3000")]
        addr: SocketAddr,
        /// Allow an address other machines can reach (0.0.0.0, a LAN address), for a demo. Then
        /// the local-only routes are not mounted: POST /dev/token, which mints admin tokens (mint
        /// them with `nanoshop token` on this machine), and POST /dev/payments/{id}/confirm, which
        /// pays any order through the simulator (set STRIPE_SECRET_KEY to a test key to take
        /// payments).
        #[arg(long)]
        public: bool,
        #[command(flatten)]
        data: DataDir,
        #[command(flatten)]
        store: StoreArgs,
        /// Do not seed the demo catalog into an empty store.
        #[arg(long)]
        no_seed: bool,
        /// The storefront to serve at `/`.
        #[arg(long, env = "NANOSHOP_STOREFRONT", default_value = "storefront-example")]
        storefront: PathBuf,
        #[command(flatten)]
        issuer: Issuer,
    },
    /// Put the search words and categories of products stored by an older version (before
    /// search's word index or the category index) into the indexes: the data dir's store or
    /// DynamoDB tables directly, or a deployed store's through its API (`--api`, which saves every
    /// product again, unchanged). Safe to run again and while serving.
    Reindex {
        #[command(flatten)]
        data: DataDir,
        #[command(flatten)]
        store: StoreArgs,
        #[command(flatten)]
        remote: Remote,
    },
    /// Seed the demo catalog into the data dir's store, if it has no products yet.
    Seed {
        #[command(flatten)]
        data: DataDir,
    },
    /// Import a catalog file (CSV or JSON, one row per variant; docs/import-export.md) through
    /// the API: every row is checked first, and re-importing a file changes nothing.
    Import {
        #[command(flatten)]
        data: DataDir,
        #[command(flatten)]
        remote: Remote,
        /// The file's format; by default its extension's (`.json`, otherwise CSV).
        #[arg(long, value_enum)]
        format: Option<Format>,
        file: PathBuf,
    },
    /// Export the catalog (products, variants, prices, categories, stock), one row per variant.
    Export {
        #[command(flatten)]
        data: DataDir,
        #[command(flatten)]
        remote: Remote,
        #[arg(long, value_enum, default_value = "csv")]
        format: Format,
        /// Where to write the file; standard output without it.
        #[arg(short = 'o', long)]
        output: Option<PathBuf>,
    },
    /// Print a JWT the local server accepts.
    Token {
        #[command(flatten)]
        data: DataDir,
        /// The customer id (`sub` claim).
        #[arg(long, default_value = "cust_local")]
        sub: String,
        #[arg(long)]
        email: Option<String>,
        /// Mint an admin token.
        #[arg(long)]
        admin: bool,
    },
    /// Print the OpenAPI 3.1 description of the whole API.
    Openapi,
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

struct Local {
    config: LocalConfig,
    secrets: LocalSecrets,
}

/// The local world in `data_dir`, with the shop kept at `store`; `dev_routes` mounts
/// `POST /dev/token` and the simulator's `POST /dev/payments/{id}/confirm` (only on loopback).
async fn open(
    data_dir: &Path,
    store: &StoreLocation,
    base_url: &str,
    storefront: Option<PathBuf>,
    dev_routes: bool,
) -> anyhow::Result<Local> {
    // Before anything is created: a live key never gets as far as a data dir.
    if let Some(key) = env("STRIPE_SECRET_KEY") {
        local::refuse_live_stripe_key(&key)?;
    }
    std::fs::create_dir_all(data_dir).with_context(|| format!("creating the data dir {}", data_dir.display()))?;
    let secrets = LocalSecrets::load_or_create(data_dir)?;
    let store = store.open(data_dir).await?;
    let images = LocalImages::new(data_dir.join("images"), base_url, local::key_bytes(&secrets.upload_key));
    let webhook_secret = env("STRIPE_WEBHOOK_SECRET").unwrap_or_else(|| secrets.stripe_webhook_secret.clone());
    let (payments, simulator): (Arc<dyn PaymentGateway>, _) = match env("STRIPE_SECRET_KEY") {
        Some(key) => {
            let publishable =
                env("STRIPE_PUBLISHABLE_KEY").context("STRIPE_PUBLISHABLE_KEY is needed with STRIPE_SECRET_KEY")?;
            tracing::info!("payments go to Stripe (STRIPE_SECRET_KEY is set)");
            (Arc::new(StripeGateway::new(&key, publishable, env("STRIPE_API_BASE").as_deref())?), None)
        }
        None => {
            let simulator = Arc::new(Simulator::new(webhook_secret.clone()));
            (simulator.clone(), Some(simulator))
        }
    };
    let minutes =
        env("PAYMENT_WINDOW_MINUTES").map_or(Ok(30), |m| m.parse::<i64>()).context("PAYMENT_WINDOW_MINUTES")?;
    let config = LocalConfig {
        store,
        store_of: None,
        verifier: Arc::new(secrets.verifier()?),
        cursor_key: local::key_bytes(&secrets.cursor_key),
        order_token_key: local::key_bytes(&secrets.order_token_key),
        webhook_secret,
        payments,
        simulator,
        payment_window: chrono::TimeDelta::minutes(minutes),
        events_log: Some(data_dir.join("events.jsonl")),
        mail: Some(nanoshop::events::LocalMail {
            dir: data_dir.join("mail"),
            storefront: base_url.to_owned(),
            templates: data_dir.join("templates"),
        }),
        images: Arc::new(images),
        storefront,
        max_units_per_sku: nanoshop_domain::cart::MaxUnitsPerSku::DEFAULT,
        dev_routes,
    };
    Ok(Local { config, secrets })
}

fn admin_token(local: &Local) -> anyhow::Result<String> {
    Ok(local.config.verifier.mint_local("seed", None, true, local::LOCAL_TOKEN_TTL)?)
}

/// The catalog API of the store `remote` names: over HTTP, or in process on the data dir's store.
async fn catalog_api(data: &DataDir, remote: Remote) -> anyhow::Result<CatalogApi> {
    let client: Arc<dyn ApiClient> = match (remote.api, remote.token) {
        (Some(url), Some(token)) => Arc::new(client::Http::new(&url, token)?),
        (Some(_), None) => anyhow::bail!("--api needs --token (or NANOSHOP_API_TOKEN): an admin token of that store"),
        (None, _) => {
            let local = open(&data.data_dir, &StoreLocation::Embedded, "http://127.0.0.1:3000", None, false).await?;
            Arc::new(client::InProcess::new(local::app(local.config.clone()), admin_token(&local)?))
        }
    };
    Ok(CatalogApi::new(client, RetryPolicy::default()))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    nanoshop_api::init_tracing();
    match Cli::parse().command {
        Command::Serve { addr, public, data, store, no_seed, storefront, issuer } => {
            local::check_serve_address(addr, public)?;
            // Bound first: a taken port fails before anything else happens, and with port 0 the
            // address the system picked is the one links and logs name.
            let listener = tokio::net::TcpListener::bind(addr).await.with_context(|| format!("binding {addr}"))?;
            let addr = listener.local_addr().context("reading the bound address")?;
            let location = store.location();
            let local = open(&data.data_dir, &location, &format!("http://{addr}"), Some(storefront), !public).await?;
            if let StoreLocation::Dynamo { endpoint, tables, .. } = &location {
                tracing::info!(%endpoint, catalog = %tables.catalog, "the shop is kept in DynamoDB tables");
            }
            let served = match issuer.auth_issuer.zip(issuer.auth_audience) {
                Some((url, audience)) => {
                    tracing::info!(issuer = %url, "accepting the issuer's tokens; POST /dev/token is not served");
                    let verifier = local::issuer_verifier(url, audience, &issuer.auth_admin_claim)?;
                    LocalConfig { verifier: Arc::new(verifier), ..local.config.clone() }
                }
                None => local.config.clone(),
            };
            let trusts_local_tokens = served.verifier.mints_local_tokens();
            let local_app = local::LocalApp::new(served);
            let app = local_app.router.clone();
            tokio::spawn(async move {
                // What AWS does on schedules and webhooks: deliver payment events, expire orders.
                let mut interval = tokio::time::interval(std::time::Duration::from_secs(2));
                loop {
                    interval.tick().await;
                    local_app.tick().await;
                }
            });
            if !no_seed {
                // The seed signs in with a local admin token: when the served router trusts an
                // issuer instead, through a router over the same store that trusts the local one.
                let seeding = if trusts_local_tokens { app.clone() } else { local::app(local.config.clone()) };
                let created = nanoshop::seed::seed(&seeding, &admin_token(&local)?).await?;
                if created > 0 {
                    tracing::info!(products = created, "seeded the demo catalog");
                }
            }
            // A target of its own, so tests (and scripts) can ask for this line alone:
            // RUST_LOG=warn,nanoshop::serving=info.
            tracing::info!(target: "nanoshop::serving", %addr, data_dir = %data.data_dir.display(), "nanoshop is serving at http://{addr}");
            nanoshop_api::serve(listener, app, nanoshop_api::shutdown_signal()).await;
            drop(local.secrets);
        }
        Command::Reindex { data, remote, store } if remote.api.is_some() => {
            anyhow::ensure!(
                store.dynamodb_endpoint.is_none(),
                "--api and --dynamodb-endpoint name two stores: give one"
            );
            let saved = catalog_api(&data, remote).await?.resave_all().await?;
            eprintln!("{saved} products saved again, each now in the word and category indexes");
        }
        Command::Reindex { data, store, .. } => {
            std::fs::create_dir_all(&data.data_dir)
                .with_context(|| format!("creating the data dir {}", data.data_dir.display()))?;
            let store = store.location().open(&data.data_dir).await?;
            let done = nanoshop_catalog::repo::CatalogRepository::new(store).reindex_all().await?;
            eprintln!("{} products, {} of them indexed now", done.products, done.indexed);
        }
        Command::Seed { data } => {
            let local = open(&data.data_dir, &StoreLocation::Embedded, "http://127.0.0.1:3000", None, false).await?;
            let app = local::app(local.config.clone());
            let created = nanoshop::seed::seed(&app, &admin_token(&local)?).await?;
            eprintln!("seeded {created} products");
        }
        Command::Import { data, remote, format, file } => {
            let bytes = std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
            let catalog = transfer::read(format.unwrap_or_else(|| Format::of_path(&file)), &bytes)
                .with_context(|| format!("{} was refused", file.display()))?;
            let api = catalog_api(&data, remote).await?;
            let progress = Progress::on_stderr("importing", catalog.products.len());
            let report = transfer::import::import(&api, catalog, &progress)
                .await
                .with_context(|| format!("importing {}", file.display()))?;
            eprintln!(
                "imported {} products: {} created, {} updated, {} unchanged; stock set on {} SKUs; \
                 {} categories: {} created, {} updated, {} unchanged",
                report.created + report.updated + report.unchanged,
                report.created,
                report.updated,
                report.unchanged,
                report.stock_set,
                report.categories_created + report.categories_updated + report.categories_unchanged,
                report.categories_created,
                report.categories_updated,
                report.categories_unchanged,
            );
        }
        Command::Export { data, remote, format, output } => {
            let api = catalog_api(&data, remote).await?;
            let catalog = transfer::export::export(&api, |n| Progress::on_stderr("exporting", n)).await?;
            let text = format.write(&catalog);
            match &output {
                Some(path) => std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))?,
                None => std::io::Write::write_all(&mut std::io::stdout().lock(), text.as_bytes())?,
            }
            eprintln!("exported {} products and {} categories", catalog.products.len(), catalog.categories.len());
        }
        Command::Token { data, sub, email, admin } => {
            // Only the secrets: the store may be open in a running `nanoshop serve`.
            std::fs::create_dir_all(&data.data_dir)?;
            let verifier = LocalSecrets::load_or_create(&data.data_dir)?.verifier()?;
            let token = verifier.mint_local(&sub, email.as_deref(), admin, local::LOCAL_TOKEN_TTL)?;
            #[allow(clippy::print_stdout)]
            {
                println!("{token}");
            }
        }
        Command::Openapi => {
            #[allow(clippy::print_stdout)]
            {
                println!("{}", serde_json::to_string_pretty(&nanoshop::openapi::document())?);
            }
        }
    }
    Ok(())
}
