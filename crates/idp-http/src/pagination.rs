//! Page-number pagination with `X-Result-Count` and `Link` headers and a bare-array body.

use actix_web::HttpRequest;
use url::form_urlencoded;

use crate::error::ApiError;
use crate::public_url::absolute_url;
use crate::state::ApiSettings;

/// Default and largest page sizes.
const DEFAULT_PAGE_SIZE: i64 = 10;
const MAX_PAGE_SIZE: i64 = 300;

/// The page a request asks for, before the total is known.
#[derive(Debug, Clone)]
pub struct PageRequest {
    page: Option<String>,
    /// Rows per page.
    pub size: i64,
    query: Vec<(String, String)>,
    base: String,
}

impl PageRequest {
    /// Reads `page` and `page_size`; a bad `page_size` falls back to the default, larger ones are
    /// capped. The links' base URL comes from `public_url.rs`: 400 for a bad `Host`.
    pub fn from_request(req: &HttpRequest, settings: &ApiSettings) -> Result<Self, ApiError> {
        let query: Vec<(String, String)> = form_urlencoded::parse(req.query_string().as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        let last = |name: &str| {
            query
                .iter()
                .rev()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        };
        let size = last("page_size")
            .and_then(|v| v.trim().parse::<i64>().ok())
            .filter(|size| *size > 0)
            .map_or(DEFAULT_PAGE_SIZE, |size| size.min(MAX_PAGE_SIZE));
        let base = absolute_url(req, settings, req.path())?;
        Ok(Self {
            page: last("page"),
            size,
            query,
            base,
        })
    }

    /// The 1-based page number for a list of `total` rows; 404 `Invalid page.` when it does not
    /// exist.
    pub fn number(&self, total: i64) -> Result<i64, ApiError> {
        let pages = last_page(total, self.size);
        let invalid = || ApiError::NotFound("Invalid page.");
        let number = match self.page.as_deref().map(str::trim) {
            None => 1,
            Some("last") => pages,
            Some(text) => text.parse::<i64>().map_err(|_| invalid())?,
        };
        if number < 1 || number > pages {
            Err(invalid())
        } else {
            Ok(number)
        }
    }

    /// The `Link` header for page `number` of `total` rows.
    pub fn link_header(&self, number: i64, total: i64) -> String {
        let pages = last_page(total, self.size);
        let mut links = vec![format!("<{}>; rel=\"first\"", self.url_with_page(None))];
        if number > 1 {
            let prev = if number == 2 { None } else { Some(number - 1) };
            links.push(format!("<{}>; rel=\"prev\"", self.url_with_page(prev)));
        }
        if number < pages {
            links.push(format!(
                "<{}>; rel=\"next\"",
                self.url_with_page(Some(number + 1))
            ));
        }
        let last = if pages > 1 { Some(pages) } else { None };
        links.push(format!("<{}>; rel=\"last\"", self.url_with_page(last)));
        links.join(", ")
    }

    /// The request's URL with `page` set (or removed), parameters sorted by name.
    fn url_with_page(&self, page: Option<i64>) -> String {
        let mut params: Vec<(String, String)> = self
            .query
            .iter()
            .filter(|(k, _)| k != "page")
            .cloned()
            .collect();
        if let Some(page) = page {
            params.push(("page".into(), page.to_string()));
        }
        params.sort_by(|a, b| a.0.cmp(&b.0));
        if params.is_empty() {
            return self.base.clone();
        }
        let query = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(params)
            .finish();
        format!("{}?{}", self.base, query)
    }
}

fn last_page(total: i64, size: i64) -> i64 {
    ((total + size - 1) / size).max(1)
}
