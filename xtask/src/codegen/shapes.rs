//! The Rust types of each operation, read from progenitor's generated code with `syn`: the
//! `Client` method, its builder's setters (parameters and body, each with the type it takes) and
//! the success and error types its `send()` returns.

use std::collections::BTreeMap;

use anyhow::{Context, bail};
use syn::visit::Visit;
use syn::{
    FnArg, GenericArgument, ImplItem, Item, PathArguments, ReturnType, Type, TypeParamBound,
    WherePredicate,
};

/// One operation as progenitor generated it.
#[derive(Clone)]
pub struct OperationShape {
    /// The operation id progenitor passes to the hooks: the spec's operationId in snake case
    /// (the same id, as the lint requires snake_case).
    pub id: String,
    /// The `Client` method that starts its builder.
    pub method: syn::Ident,
    /// The builder type, inside `builder::`.
    pub builder: syn::Ident,
    /// The parameter setters: setter name and the type it takes, in progenitor's order.
    pub params: Vec<(syn::Ident, Type)>,
    /// The type `body` takes, for operations with a body.
    pub body: Option<Type>,
    /// `T` of `send()`'s `ResponseValue<T>`.
    pub success: Type,
    /// `E` of `send()`'s `Error<E>`.
    pub error: Type,
}

/// Every operation of progenitor's builder-style output, sorted by id.
pub fn operations(file: &syn::File) -> anyhow::Result<Vec<OperationShape>> {
    let methods = client_methods(file);
    let builder = file
        .items
        .iter()
        .find_map(|item| match item {
            Item::Mod(m) if m.ident == "builder" => m.content.as_ref().map(|(_, items)| items),
            _ => None,
        })
        .context("progenitor's output has no `mod builder` (is the interface builder style?)")?;
    let mut found = Vec::new();
    for item in builder {
        let Item::Impl(block) = item else { continue };
        let Type::Path(self_ty) = &*block.self_ty else {
            continue;
        };
        let Some(name) = self_ty.path.segments.last().map(|s| s.ident.clone()) else {
            continue;
        };
        let Some(method) = methods.get(&name.to_string()) else {
            continue;
        };
        found.push(
            shape(method.clone(), name.clone(), &block.items)
                .with_context(|| format!("reading progenitor's builder `{name}`"))?,
        );
    }
    if found.len() != methods.len() {
        bail!(
            "progenitor's `Client` has {} builder methods but {} builders with a `send`",
            methods.len(),
            found.len()
        );
    }
    found.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(found)
}

/// `impl Client { pub fn create(&self) -> builder::Create<'_> }`: builder name → method.
fn client_methods(file: &syn::File) -> BTreeMap<String, syn::Ident> {
    let mut methods = BTreeMap::new();
    for item in &file.items {
        let Item::Impl(block) = item else { continue };
        if block.trait_.is_some() || !is_path(&block.self_ty, "Client") {
            continue;
        }
        for item in &block.items {
            let ImplItem::Fn(f) = item else { continue };
            let ReturnType::Type(_, ty) = &f.sig.output else {
                continue;
            };
            let Type::Path(path) = &**ty else { continue };
            let segments: Vec<_> = path.path.segments.iter().collect();
            if let [module, builder] = segments.as_slice()
                && module.ident == "builder"
            {
                methods.insert(builder.ident.to_string(), f.sig.ident.clone());
            }
        }
    }
    methods
}

fn is_path(ty: &Type, name: &str) -> bool {
    matches!(ty, Type::Path(p) if p.path.is_ident(name))
}

fn shape(
    method: syn::Ident,
    builder: syn::Ident,
    items: &[ImplItem],
) -> anyhow::Result<OperationShape> {
    let mut params = Vec::new();
    let mut body = None;
    let mut send = None;
    for item in items {
        let ImplItem::Fn(f) = item else { continue };
        if !matches!(f.vis, syn::Visibility::Public(_)) {
            continue;
        }
        let name = &f.sig.ident;
        if name == "send" {
            send = Some(f);
        } else if let Some(ty) = setter_type(&f.sig) {
            if name == "body" {
                body = Some(ty);
            } else {
                params.push((name.clone(), ty));
            }
        }
    }
    let send = send.context("no `send` method")?;
    let (success, error) = send_types(&send.sig.output)?;
    let mut finder = OperationIdFinder(None);
    finder.visit_block(&send.block);
    let id = finder
        .0
        .context("`send` passes no `OperationInfo { operation_id }` literal")?;
    Ok(OperationShape {
        id,
        method,
        builder,
        params,
        body,
        success,
        error,
    })
}

/// `T` of a setter `fn name<V>(mut self, value: V) -> Self where V: TryInto<T>`; `None` for any
/// other method (`new`, `body_map`).
fn setter_type(sig: &syn::Signature) -> Option<Type> {
    let generic = sig.generics.type_params().next()?;
    let takes_value = sig.inputs.iter().any(|arg| {
        matches!(arg, FnArg::Typed(t) if matches!(&*t.ty, Type::Path(p) if p.path.is_ident(&generic.ident)))
    });
    if !takes_value {
        return None;
    }
    let inline = generic.bounds.iter();
    let in_where = sig
        .generics
        .where_clause
        .iter()
        .flat_map(|w| &w.predicates)
        .filter_map(|p| match p {
            WherePredicate::Type(t) if is_path(&t.bounded_ty, &generic.ident.to_string()) => {
                Some(t.bounds.iter())
            }
            _ => None,
        })
        .flatten();
    inline.chain(in_where).find_map(|bound| {
        let TypeParamBound::Trait(t) = bound else {
            return None;
        };
        let last = t.path.segments.last()?;
        if last.ident != "TryInto" {
            return None;
        }
        first_type_argument(&last.arguments)
    })
}

fn first_type_argument(arguments: &PathArguments) -> Option<Type> {
    let PathArguments::AngleBracketed(args) = arguments else {
        return None;
    };
    args.args.iter().find_map(|a| match a {
        GenericArgument::Type(t) => Some(t.clone()),
        _ => None,
    })
}

/// `(T, E)` of `-> Result<ResponseValue<T>, Error<E>>`.
fn send_types(output: &ReturnType) -> anyhow::Result<(Type, Type)> {
    let wrapped = |ty: &Type, wrapper: &str| -> Option<Type> {
        let Type::Path(p) = ty else { return None };
        let last = p.path.segments.last()?;
        (last.ident == wrapper).then(|| first_type_argument(&last.arguments))?
    };
    let ReturnType::Type(_, ty) = output else {
        bail!("`send` returns nothing");
    };
    let Type::Path(result) = &**ty else {
        bail!("`send` does not return a `Result`");
    };
    let last = result
        .path
        .segments
        .last()
        .context("`send`'s return type")?;
    let PathArguments::AngleBracketed(args) = &last.arguments else {
        bail!("`send` does not return a `Result<_, _>`");
    };
    let types: Vec<&Type> = args
        .args
        .iter()
        .filter_map(|a| match a {
            GenericArgument::Type(t) => Some(t),
            _ => None,
        })
        .collect();
    let [ok, err] = types.as_slice() else {
        bail!("`send` does not return a `Result<_, _>`");
    };
    let success = wrapped(ok, "ResponseValue").context("`send`'s Ok is not a ResponseValue<T>")?;
    let error = wrapped(err, "Error").context("`send`'s Err is not an Error<E>")?;
    Ok((success, error))
}

/// Finds `operation_id: "<literal>"` in a function body.
struct OperationIdFinder(Option<String>);

impl<'ast> Visit<'ast> for OperationIdFinder {
    fn visit_field_value(&mut self, field: &'ast syn::FieldValue) {
        if let syn::Member::Named(name) = &field.member
            && name == "operation_id"
            && let syn::Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Str(literal),
                ..
            }) = &field.expr
        {
            self.0.get_or_insert_with(|| literal.value());
        }
        syn::visit::visit_field_value(self, field);
    }
}
