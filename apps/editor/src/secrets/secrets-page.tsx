// placeholder
export default function Page() {
  return <div className="page">secrets-page</div>;
}
